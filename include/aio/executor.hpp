// ThreadPoolExecutor, run_in_executor, to_thread, run_coroutine_threadsafe
// (concurrent.futures.ThreadPoolExecutor and asyncio's threads.py).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/loop.hpp"
#include "aio/task.hpp"

namespace aio {

/// A pool of worker threads (concurrent.futures.ThreadPoolExecutor). Threads start on
/// demand up to `max_workers`. In C++ they run truly in parallel: CPU-bound work belongs
/// here (Python needs processes for that because of the GIL).
/// Thread-safety: thread-safe.
class ThreadPoolExecutor {
public:
    /// `max_workers == 0` means min(32, hardware threads + 4), as Python chooses.
    explicit ThreadPoolExecutor(std::size_t max_workers = 0);
    /// Shuts down and waits for queued jobs.
    ~ThreadPoolExecutor();
    ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
    ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

    /// Queues `job` to run on a worker. Raises RuntimeError after shutdown.
    void submit(std::function<void()> job);
    /// Stops accepting jobs; with `wait`, runs the queued ones and joins the threads.
    void shutdown(bool wait = true);
    [[nodiscard]] std::size_t max_workers() const noexcept { return max_workers_; }

private:
    void worker();

    std::size_t max_workers_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> threads_;
    std::size_t idle_ = 0;
    bool shutdown_ = false;
};

namespace detail {

/// Shared between the awaiting frame, the worker and the completion callback.
template <class R>
struct ExecJob {
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> value;
    std::exception_ptr error;
    std::atomic<bool> finished{false};
    std::mutex mutex;
    std::condition_variable cv;
    struct ExecutorAwaiterBase* awaiter = nullptr;  // nulled if the frame dies first
};

struct ExecutorAwaiterBase : LeafWait {
    EventLoop* loop = nullptr;
    bool done = false;
    bool cancel_requested = false;
    // Cancelling cannot stop the function; the request is recorded and raised when the
    // function returns, because it may still use the caller's frame.
    static bool cancel_hook(Suspension* s) noexcept {
        static_cast<ExecutorAwaiterBase*>(s)->cancel_requested = true;
        return true;
    }
};

template <class R, class Fn>
class ExecutorAwaiter : public ExecutorAwaiterBase {
public:
    ExecutorAwaiter(ThreadPoolExecutor* ex, Fn fn) : ex_(ex), fn_(std::move(fn)) {}
    ExecutorAwaiter(const ExecutorAwaiter&) = delete;
    ExecutorAwaiter& operator=(const ExecutorAwaiter&) = delete;
    ~ExecutorAwaiter() {
        if (!job_) return;
        job_->awaiter = nullptr;
        if (!job_->finished.load(std::memory_order_acquire)) {
            // Only when the loop closes under a running job: the function may use this
            // frame, so it must finish before the frame goes away.
            std::unique_lock lock(job_->mutex);
            job_->cv.wait(lock, [&] { return job_->finished.load(std::memory_order_acquire); });
        }
    }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        if (!park(h, &ExecutorAwaiterBase::cancel_hook, "run_in_executor")) return false;
        loop = task->loop();
        ThreadPoolExecutor& ex = ex_ ? *ex_ : loop->default_executor();
        job_ = std::make_shared<ExecJob<R>>();
        job_->awaiter = this;
        loop->begin_external();
        try {
            ex.submit([job = job_, loop = loop, fn = &fn_] {
                try {
                    if constexpr (std::is_void_v<R>) {
                        (*fn)();
                        job->value.emplace(true);
                    } else {
                        job->value.emplace((*fn)());
                    }
                } catch (...) {
                    job->error = std::current_exception();
                }
                {
                    // Under the mutex so the frame's destructor cannot miss the notify.
                    std::lock_guard lock(job->mutex);
                    job->finished.store(true, std::memory_order_release);
                }
                job->cv.notify_all();
                try {
                    loop->call_soon_threadsafe([job, loop] {
                        loop->end_external();
                        if (auto* a = job->awaiter) {
                            a->done = true;
                            a->wake();
                        }
                    });
                } catch (...) {
                    // The loop closed meanwhile: nobody is waiting any more.
                }
            });
        } catch (...) {
            loop->end_external();
            job_.reset();
            throw;
        }
        return true;
    }
    decltype(auto) await_resume() {
        if (cancel_requested || cancel_pending()) task->throw_cancelled();
        if (job_->error) std::rethrow_exception(job_->error);
        if constexpr (!std::is_void_v<R>) return std::move(*job_->value);
    }

private:
    ThreadPoolExecutor* ex_;
    Fn fn_;
    std::shared_ptr<ExecJob<R>> job_;
};

template <class F, class... A>
auto bind_call(F&& fn, A&&... args) {
    return [f = std::forward<F>(fn), tup = std::make_tuple(std::forward<A>(args)...)]() mutable -> decltype(auto) {
        return std::apply(f, tup);
    };
}

}  // namespace detail

template <class F, class... A>
auto EventLoop::run_in_executor(ThreadPoolExecutor* executor, F&& fn, A&&... args) {
    auto call = detail::bind_call(std::forward<F>(fn), std::forward<A>(args)...);
    using R = std::invoke_result_t<decltype(call)&>;
    return detail::ExecutorAwaiter<R, decltype(call)>(executor, std::move(call));
}

/// Runs `fn(args...)` on the default executor and awaits its result (asyncio.to_thread).
/// Cancellation: Not cancel-safe: the function runs to completion; the cancellation is
/// delivered when it returns and its result is discarded.
/// Thread-safety: `fn` runs on a worker thread.
template <class F, class... A>
[[nodiscard]] auto to_thread(F&& fn, A&&... args) {
    return get_running_loop().run_in_executor(nullptr, std::forward<F>(fn), std::forward<A>(args)...);
}

/// Submits `coro` to `loop` (running on another thread) and returns a std::future for
/// its result (asyncio.run_coroutine_threadsafe). Cancelling is not offered: use a
/// Future/Event on the loop for that.
/// Thread-safety: thread-safe; call it from any thread but the loop's.
template <class T>
std::future<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
    auto promise = std::make_shared<std::promise<T>>();
    std::future<T> result = promise->get_future();
    auto holder = std::make_shared<Coro<T>>(std::move(coro));
    loop.call_soon_threadsafe([holder, promise] {
        try {
            Task<T> task = create_task(std::move(*holder));
            task.add_done_callback([promise](Task<T>& t) {
                try {
                    if constexpr (std::is_void_v<T>) {
                        t.result();
                        promise->set_value();
                    } else {
                        promise->set_value(t.result());
                    }
                } catch (...) {
                    promise->set_exception(std::current_exception());
                }
            });
        } catch (...) {
            promise->set_exception(std::current_exception());
        }
    });
    return result;
}

}  // namespace aio
