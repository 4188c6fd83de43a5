#include "aio/tasks.hpp"

namespace aio::detail {

WaitSet::WaitSet(ChildList children, WaitMode mode, bool forward_cancel,
                 std::optional<Clock::time_point> deadline)
    : children_(children), deadline_(deadline), mode_(mode), forward_cancel_(forward_cancel) {
    what = forward_cancel ? "gather" : "wait";
}

WaitSet::~WaitSet() {
    // Only unregister: a frame destroyed while suspended (loop close) must not be woken.
    over_ = true;
    finish();
}

bool WaitSet::note_done(TaskBase* child) noexcept {
    if (!first_done_) first_done_ = child;
    const bool failed = child->cancelled() || child->error() != nullptr;
    switch (mode_) {
        case WaitMode::gather:
            if (failed) {
                if (!first_failed_) first_failed_ = child;
                return true;
            }
            return remaining_ == 0;
        case WaitMode::first_completed:
            return true;
        case WaitMode::first_exception:
            // asyncio: a cancelled task does not count as raising.
            if (!child->cancelled() && child->error() != nullptr) return true;
            return remaining_ == 0;
        case WaitMode::all:
            return remaining_ == 0;
    }
    return false;
}

bool WaitSet::await_ready() {
    for (std::size_t i = 0; i < children_.size(); ++i) {
        if (children_[i]->loop() != tl_running_loop)
            throw RuntimeError("RuntimeError: Task got Future attached to a different loop");
    }
    remaining_ = 0;
    for (std::size_t i = 0; i < children_.size(); ++i) remaining_ += children_[i]->done() ? 0 : 1;
    // Children already done decide first, in argument order.
    for (std::size_t i = 0; i < children_.size(); ++i) {
        if (children_[i]->done() && note_done(children_[i])) {
            over_ = true;
            return true;
        }
    }
    if (remaining_ == 0) {
        over_ = true;
        return true;
    }
    if (deadline_ && *deadline_ <= tl_running_loop->time()) {
        over_ = true;
        return true;
    }
    return false;
}

bool WaitSet::await_suspend(std::coroutine_handle<> h) {
    task_ = &running_task("gather/wait");
    on_cancel = forward_cancel_ ? &WaitSet::on_cancel_forward : &WaitSet::on_cancel_leaf;
    if (forward_cancel_ && task_->must_cancel()) {
        // cancel() arrived while running: forward it to the children now.
        bool taken = false;
        std::string msg(task_->cancel_message());
        for (std::size_t i = 0; i < children_.size(); ++i) {
            if (TaskBase* c = children_[i]; !c->done() && c->cancel(msg)) taken = true;
        }
        if (taken) {
            cancel_requested_ = true;
            task_->take_must_cancel();
        }
    }
    if (!task_->park(this, h)) return false;
    child_done = &WaitSet::on_child_done;
    for (std::size_t i = 0; i < children_.size(); ++i) {
        if (!children_[i]->done()) children_[i]->add_group(this);
    }
    registered_ = true;
    if (deadline_) {
        when = *deadline_;
        fire = &WaitSet::timer_fired;
        task_->loop()->add_timer(this);
    }
    return true;
}

void WaitSet::await_resume() {
    // A cancellation that arrived after the wake-up (or before suspending) wins.
    if (cancelled_) task_->throw_cancelled();
    if (task_ && task_->take_must_cancel()) task_->throw_cancelled();
    if (!task_) {
        if (TaskBase* t = tl_current_task; t && t->take_must_cancel()) t->throw_cancelled();
    }
}

void WaitSet::on_child_done(GroupWaiter* g, FutureBase* child) noexcept {
    auto* self = static_cast<WaitSet*>(g);
    --self->remaining_;
    if (self->note_done(static_cast<TaskBase*>(child))) self->finish();
}

void WaitSet::timer_fired(TimerNode* n) noexcept { static_cast<WaitSet*>(n)->finish(); }

bool WaitSet::on_cancel_forward(Suspension* s) {
    auto* self = static_cast<WaitSet*>(s);
    bool taken = false;
    std::string msg(self->task_->cancel_message());
    for (std::size_t i = 0; i < self->children_.size(); ++i) {
        if (TaskBase* c = self->children_[i]; !c->done() && c->cancel(msg)) taken = true;
    }
    self->cancel_requested_ = true;
    return taken;
}

bool WaitSet::on_cancel_leaf(Suspension* s) noexcept {
    auto* self = static_cast<WaitSet*>(s);
    self->cancelled_ = true;
    self->finish();
    return true;
}

void WaitSet::finish() noexcept {
    if (registered_ && remaining_ > 0) {
        // A child still registered is one not done yet: completing unregisters it. When
        // all are done there is nothing to visit (100,000 children are 8 MB of states).
        for (std::size_t i = 0; i < children_.size(); ++i) {
            if (!children_[i]->done()) children_[i]->remove_group(this);
        }
    }
    registered_ = false;
    if (queued()) task_->loop()->cancel_timer(this);
    if (!over_ && task_) {
        over_ = true;
        task_->wake();
    }
    over_ = true;
}

void raise_gather_failure(const WaitSet& ws, ChildList children) {
    if (TaskBase* failed = ws.first_failed()) {
        // As asyncio's gather does, the failures of children still running are retrieved
        // by the gather when they happen: the first one was raised, the rest are noise.
        for (std::size_t i = 0; i < children.size(); ++i) children[i]->mark_retrieved_when_done();
        failed->rethrow_result();
    }
    if (ws.cancel_requested()) running_task("gather").throw_cancelled();
}

}  // namespace aio::detail
