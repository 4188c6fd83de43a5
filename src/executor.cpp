#include "aio/executor.hpp"

#include <algorithm>

#include "aio/exceptions.hpp"
#include "runtime/loop_impl.hpp"

namespace aio {

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers)
    : max_workers_(max_workers ? max_workers
                               : std::min<std::size_t>(32, std::max(1u, std::thread::hardware_concurrency()) + 4)) {}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(true); }

void ThreadPoolExecutor::submit(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        if (shutdown_) throw RuntimeError("RuntimeError: cannot schedule new futures after shutdown");
        jobs_.push_back(std::move(job));
        // Start a thread only when no worker is idle (as Python's _adjust_thread_count).
        if (idle_ == 0 && threads_.size() < max_workers_) threads_.emplace_back([this] { worker(); });
    }
    cv_.notify_one();
}

void ThreadPoolExecutor::worker() {
    std::unique_lock lock(mutex_);
    for (;;) {
        ++idle_;
        cv_.wait(lock, [&] { return shutdown_ || !jobs_.empty(); });
        --idle_;
        if (jobs_.empty()) return;  // shut down and drained
        std::function<void()> job = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        job();
        lock.lock();
    }
}

void ThreadPoolExecutor::shutdown(bool wait) {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        shutdown_ = true;
        if (!wait) jobs_.clear();
        threads.swap(threads_);
    }
    cv_.notify_all();
    for (auto& t : threads) {
        if (t.get_id() == std::this_thread::get_id()) {
            t.detach();  // shutdown from one of our own jobs
        } else {
            t.join();
        }
    }
}

void EventLoop::set_default_executor(std::shared_ptr<ThreadPoolExecutor> executor) {
    impl_->default_executor = std::move(executor);
}

ThreadPoolExecutor& EventLoop::default_executor() {
    if (!impl_->default_executor) impl_->default_executor = std::make_shared<ThreadPoolExecutor>();
    return *impl_->default_executor;
}

void EventLoop::shutdown_default_executor() {
    if (auto ex = std::move(impl_->default_executor)) ex->shutdown(true);
}

}  // namespace aio
