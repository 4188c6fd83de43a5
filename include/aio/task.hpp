// Task<T>: a scheduled coroutine plus the read side of a Future (asyncio.Task, tasks.py).
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/future.hpp"
#include "aio/loop.hpp"

namespace aio {

/// A type-erased task handle (what current_task(), all_tasks(), wait() and
/// as_completed() deal in). 8 bytes, copyable; a non-atomic count keeps the state alive.
///
/// Awaiting it waits for the task and raises its exception, discarding any value.
/// Cancellation: cancelling the awaiting task cancels this task too (asyncio forwards
/// it) and keeps waiting for its outcome.
/// Thread-safety: loop-affine (copies and drops included).
class AnyTask {
public:
    AnyTask() noexcept = default;
    explicit AnyTask(detail::TaskBase* t) noexcept : t_(t) {
        if (t_) t_->acquire();
    }
    AnyTask(const AnyTask& o) : t_(o.t_) {
        if (!t_) return;
        if (detail::debug_enabled()) [[unlikely]]
            detail::check_handle_thread(t_->loop(), "a Task handle", false);
        t_->acquire();
    }
    AnyTask(AnyTask&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
    AnyTask& operator=(AnyTask o) noexcept {
        std::swap(t_, o.t_);
        return *this;
    }
    ~AnyTask() {
        if (!t_) return;
        if (detail::debug_enabled()) [[unlikely]]
            detail::check_handle_thread(t_->loop(), "a Task handle", true);
        t_->release();
    }

    /// Requests cancellation (asyncio.Task.cancel): false if the task is already done.
    /// Runs no user code; CancelledError(msg) is raised inside the task at its await.
    bool cancel(std::string_view msg = {}) { return t_->cancel(msg); }
    /// Pending cancellation requests (Task.cancelling()).
    [[nodiscard]] int cancelling() const noexcept { return t_->cancelling(); }
    /// Decrements cancelling() and returns the new count (Task.uncancel()).
    int uncancel() noexcept { return t_->uncancel(); }
    [[nodiscard]] bool done() const noexcept { return t_->done(); }
    [[nodiscard]] bool cancelled() const noexcept { return t_->cancelled(); }
    /// The exception the task raised, or nullptr; raises CancelledError if it was
    /// cancelled and InvalidStateError if it is not done (Task.exception()).
    [[nodiscard]] std::exception_ptr exception() const;
    [[nodiscard]] std::string get_name() const { return t_->name(); }
    void set_name(std::string name) { t_->set_name(std::move(name)); }
    [[nodiscard]] EventLoop& get_loop() const noexcept { return *t_->loop(); }
    /// Prints the task's async call chain, innermost frame first (Task.print_stack()).
    void print_stack(std::FILE* out = stderr) const;
    /// The async call chain as text lines, innermost first.
    [[nodiscard]] std::vector<std::string> get_stack() const;

    /// Calls `fn(task)` via call_soon once the task is done (at once if it is).
    template <class F>
    CallbackId add_done_callback(F fn) {
        return detail::add_done_callback(t_, [self = *this, f = std::move(fn)]() mutable { f(self); });
    }
    std::size_t remove_done_callback(CallbackId id) noexcept { return detail::remove_done_callback(t_, id); }

    class Awaiter : public detail::AwaitDone {
    public:
        explicit Awaiter(detail::TaskBase* t) noexcept : AwaitDone(t) {}
        void await_resume() {
            check_cancel();
            static_cast<detail::TaskBase*>(fut)->rethrow_result();
        }
    };
    Awaiter operator co_await() const noexcept { return Awaiter(t_); }

    explicit operator bool() const noexcept { return t_ != nullptr; }
    friend bool operator==(const AnyTask& a, const AnyTask& b) noexcept { return a.t_ == b.t_; }
    [[nodiscard]] detail::TaskBase* state() const noexcept { return t_; }

protected:
    detail::TaskBase* t_ = nullptr;
};

/// A task producing `T` (asyncio.Task). See AnyTask for the common operations.
///
/// `co_await task` copies the result out (the task can be awaited again);
/// `co_await std::move(task)` moves it. result() works once the task is done.
/// Cancellation: cancelling the awaiting task cancels this task too and keeps waiting
/// for its outcome (an inner task that swallows the cancel leaves the outer running).
/// Thread-safety: loop-affine.
template <class T = void>
class Task : public AnyTask {
    using Promise = detail::CoroPromise<T>;

public:
    using value_type = T;
    Task() noexcept = default;
    /// Adopts the task state (used by create_task).
    static Task adopt(detail::TaskBase* t) noexcept {
        Task task;
        task.t_ = t;
        return task;
    }

    decltype(auto) result() const& { return get<false>(t_); }
    decltype(auto) result() && { return get<true>(t_); }

    template <class F>
    CallbackId add_done_callback(F fn) {
        return AnyTask::add_done_callback([f = std::move(fn)](const AnyTask& a) mutable {
            Task self;
            self.t_ = a.state();
            self.t_->acquire();
            f(self);
        });
    }

    template <bool Move>
    class Awaiter : public detail::AwaitDone {
    public:
        explicit Awaiter(detail::TaskBase* t) noexcept : AwaitDone(t) {}
        decltype(auto) await_resume() {
            check_cancel();
            return Task::get<Move>(static_cast<detail::TaskBase*>(fut));
        }
    };
    Awaiter<false> operator co_await() const& noexcept { return Awaiter<false>(t_); }
    Awaiter<true> operator co_await() && noexcept { return Awaiter<true>(t_); }

private:
    template <bool Move>
    static auto get(detail::TaskBase* t) -> std::conditional_t<std::is_void_v<T>, void, T> {
        t->rethrow_result();
        if constexpr (!std::is_void_v<T>) {
            auto& p = std::coroutine_handle<Promise>::from_address(t->root().address()).promise();
            if constexpr (Move) {
                return std::move(*p.value_);
            } else {
                return *p.value_;
            }
        }
    }
};

namespace detail {
template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<Task<T>> : std::true_type {};
}  // namespace detail
template <class T>
inline constexpr bool is_task_v = detail::is_task<std::remove_cvref_t<T>>::value;

/// Schedules `coro` to run as a task on the running loop and returns its handle
/// (asyncio.create_task). Not [[nodiscard]]: the loop owns the task until it finishes,
/// so fire-and-forget is safe; a failed task whose handles are all gone is reported.
/// Lifetime: the task may outlive the caller; the coroutine must not refer to the
/// caller's locals (pass values, or use a task_group).
template <class T>
Task<T> create_task(Coro<T>&& coro, std::string_view name = {}) {
    EventLoop& loop = get_running_loop();
    auto h = coro.release();
    if (!h) throw InvalidStateError("InvalidStateError: create_task() of an empty Coro");
    if (h.promise().started()) throw RuntimeError("RuntimeError: cannot reuse already awaited coroutine");
    h.promise().start_as_task_root();
    detail::TaskBase* t = detail::TaskBase::spawn(&loop, h);
    if (!name.empty()) t->set_name(std::string(name));
    t->acquire();
    return Task<T>::adopt(t);
}

namespace detail {
template <class F, class... A>
using invoke_coro_t = std::invoke_result_t<F&, A&...>;

template <class F, class... A>
auto call_owned(F fn, A... args) -> invoke_coro_t<F, A...> {
    // The callable and its arguments live in this frame until the coroutine finishes,
    // so a capturing lambda cannot dangle (DESIGN §3 "Lifetimes").
    co_return co_await std::invoke(fn, args...);
}
}  // namespace detail

/// create_task(fn, args...): calls `fn(args...)` (which returns a Coro) inside a task,
/// keeping `fn` and copies of `args` alive until it finishes.
template <class F, class... A>
    requires(!is_coro_v<F> && is_coro_v<detail::invoke_coro_t<std::decay_t<F>, std::decay_t<A>...>>)
auto create_task(F&& fn, A&&... args) {
    return create_task(detail::call_owned<std::decay_t<F>, std::decay_t<A>...>(std::forward<F>(fn),
                                                                                std::forward<A>(args)...));
}

/// The task running on this thread (asyncio.current_task()); empty outside a task.
[[nodiscard]] AnyTask current_task() noexcept;

/// The loop's tasks that are not done (asyncio.all_tasks()).
[[nodiscard]] std::vector<AnyTask> all_tasks();

namespace detail {
/// create_task on `loop` while it is not running (run(), Runner, the test loop).
template <class T>
Task<T> create_task_on(EventLoop& loop, Coro<T>&& coro, std::string_view name = {}) {
    struct Restore {
        EventLoop* saved;
        ~Restore() { tl_running_loop = saved; }
    } restore{std::exchange(tl_running_loop, &loop)};
    return create_task(std::move(coro), name);
}
}  // namespace detail

template <class T>
T EventLoop::run_until_complete(Coro<T> coro) {
    if (detail::tl_running_loop) throw RuntimeError("RuntimeError: This event loop is already running");
    // Run the loop until the task is done, then stop (asyncio's _run_until_complete_cb).
    Task<T> task = detail::create_task_on(*this, std::move(coro));
    task.add_done_callback([this](const AnyTask&) { stop(); });
    run_forever();
    if (!task.done()) throw RuntimeError("RuntimeError: Event loop stopped before Future completed.");
    return std::move(task).result();
}

}  // namespace aio
