#include "aio/timeouts.hpp"

namespace aio {

Timeout::~Timeout() { handle_.cancel(); }

void Timeout::enter() {
    if (state_ != State::created) throw RuntimeError("RuntimeError: Timeout has already been entered");
    detail::TaskBase* task = detail::tl_current_task;
    if (!task) throw RuntimeError("RuntimeError: Timeout should be used inside a task");
    state_ = State::entered;
    task_ = task;
    cancelling_ = task->cancelling();
    detail::TaskExtras& ex = task->extras();
    record_.parent = ex.scopes;
    ex.scopes = &record_;
    reschedule(when_);
}

void Timeout::reschedule(std::optional<Clock::time_point> when) {
    if (state_ != State::entered) {
        if (state_ == State::created) throw RuntimeError("RuntimeError: Timeout has not been entered");
        throw RuntimeError(std::string("RuntimeError: Cannot change state of ") +
                           (state_ == State::exited ? "finished" : "expiring") + " Timeout");
    }
    when_ = when;
    record_.deadline = when;
    handle_.cancel();
    handle_ = TimerHandle();
    if (when) {
        // A deadline already past fires on the next timer pass (asyncio: call_soon).
        handle_ = task_->loop()->call_at(*when, [this] { on_timeout(); });
    }
}

void Timeout::on_timeout() noexcept {
    task_->cancel({});
    state_ = State::expiring;
}

void Timeout::exit(std::exception_ptr error) {
    handle_.cancel();
    // Pop our scope record (scopes nest strictly, like `async with`).
    if (detail::TaskExtras* ex = task_->extras_if()) ex->scopes = record_.parent;
    if (state_ == State::expiring) {
        state_ = State::expired;
        if (task_->uncancel() <= cancelling_ && error && is_cancelled(error)) {
            // No newer cancel request: the cancellation was ours.
            throw TimeoutError();
        }
    } else if (state_ == State::entered) {
        state_ = State::exited;
    }
    if (error) std::rethrow_exception(error);
}

std::optional<Clock::time_point> current_deadline() noexcept {
    detail::TaskBase* t = detail::tl_current_task;
    if (!t || !t->extras_if()) return std::nullopt;
    std::optional<Clock::time_point> best;
    for (detail::ScopeRecord* r = t->extras_if()->scopes; r; r = r->parent) {
        if (r->deadline && (!best || *r->deadline < *best)) best = r->deadline;
    }
    return best;
}

}  // namespace aio
