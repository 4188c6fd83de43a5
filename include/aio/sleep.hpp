// sleep(): suspend the current task for a while (asyncio.sleep).
#pragma once

#include <chrono>
#include <coroutine>

#include "aio/detail/task_base.hpp"
#include "aio/loop.hpp"

namespace aio {

namespace detail {

class SleepAwaiter : public LeafWait, public TimerNode {
public:
    // Until it is queued, `when` holds the delay (a sleeping frame is the bulk of a
    // sleeping task's memory, so the awaiter keeps no separate field for it).
    explicit SleepAwaiter(Clock::duration d) noexcept { when = Clock::time_point(d); }
    SleepAwaiter(const SleepAwaiter&) = delete;
    SleepAwaiter& operator=(const SleepAwaiter&) = delete;
    ~SleepAwaiter() {
        if (queued()) task->loop()->cancel_timer(this);
    }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        const Clock::duration delay = when.time_since_epoch();
        if (delay <= Clock::duration::zero()) {
            // sleep(0): yield exactly once; the task goes to the back of the ready queue.
            task = &running_task("aio::sleep()");
            if (task->must_cancel()) return false;
            task->park_ready(h);
            return true;
        }
        if (!park(h, &SleepAwaiter::cancel_hook, "sleep")) return false;
        EventLoop* loop = task->loop();
        when = loop->time() + delay;
        fire = &SleepAwaiter::on_timer;
        loop->add_timer(this);
        return true;
    }
    void await_resume() {
        if (cancel_pending()) task->throw_cancelled();
    }

private:
    static void on_timer(TimerNode* n) noexcept { static_cast<SleepAwaiter*>(n)->wake(); }
    static bool cancel_hook(Suspension* s) noexcept {
        auto* self = static_cast<SleepAwaiter*>(s);
        self->task->loop()->cancel_timer(self);
        return self->cancelled_by_request();
    }
};

}  // namespace detail

/// Suspends the current task for `delay` (asyncio.sleep). `sleep(0)` yields to the other
/// ready tasks exactly once.
/// Cancellation: Cancel-safe: the timer is removed and CancelledError is raised.
/// Thread-safety: loop-affine.
template <class Rep, class Period>
[[nodiscard]] detail::SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) noexcept {
    return detail::SleepAwaiter(std::chrono::ceil<Clock::duration>(delay));
}

/// Suspends until the loop's clock reaches `when`.
/// Cancellation: Cancel-safe: the timer is removed and CancelledError is raised.
[[nodiscard]] inline detail::SleepAwaiter sleep_until(Clock::time_point when) {
    return detail::SleepAwaiter(when - get_running_loop().time());
}

}  // namespace aio
