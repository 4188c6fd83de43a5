#include "aio/taskgroups.hpp"

#include <algorithm>

namespace aio {

TaskGroup::~TaskGroup() {
    for (Child* c : children_) {
        if (c->linked()) c->task.state()->remove_link(c);
        delete c;
    }
}

void TaskGroup::enter() {
    if (entered_) throw RuntimeError("RuntimeError: TaskGroup has already been entered");
    detail::TaskBase* parent = detail::tl_current_task;
    if (!parent) throw RuntimeError("RuntimeError: TaskGroup cannot determine the parent task");
    entered_ = true;
    parent_ = parent;
}

void TaskGroup::check_can_spawn() const {
    if (!entered_) throw RuntimeError("RuntimeError: TaskGroup has not been entered");
    if (exiting_ && children_.empty()) throw RuntimeError("RuntimeError: TaskGroup is finished");
    if (aborting_) throw RuntimeError("RuntimeError: TaskGroup is shutting down");
}

void TaskGroup::adopt(const AnyTask& t) {
    if (t.done()) {
        on_child_done(t);
        return;
    }
    auto* c = new Child;
    c->group = this;
    c->task = t;
    c->on_done = &TaskGroup::child_done;
    t.state()->add_link(c);
    children_.push_back(c);
}

void TaskGroup::child_done(detail::DoneLink* l) noexcept {
    auto* c = static_cast<Child*>(l);
    // Deferred like asyncio's done callback (_on_task_done runs via call_soon), so
    // children finishing in the same iteration all report before the group aborts.
    // The group cannot finish before this runs: the child stays in children_ until then.
    try {
        c->task.get_loop().call_soon([c] { c->group->handle_child_done(c); });
    } catch (...) {
        c->group->handle_child_done(c);
    }
}

void TaskGroup::handle_child_done(Child* c) noexcept {
    AnyTask t = std::move(c->task);
    children_.erase(std::find(children_.begin(), children_.end(), c));
    delete c;
    try {
        on_child_done(t);
    } catch (...) {
        t.get_loop().call_exception_handler({"error in TaskGroup bookkeeping", std::current_exception(), {}, {}});
    }
}

void TaskGroup::on_child_done(const AnyTask& t) {
    if (on_completed_ && children_.empty() && !on_completed_->done()) on_completed_->set_result();
    if (t.cancelled()) return;
    std::exception_ptr e = t.exception();
    if (!e) return;
    errors_.push_back(e);
    if (parent_->done()) {
        t.get_loop().call_exception_handler(
            {"Task error after the TaskGroup's parent task finished", e, t.get_name(), {}});
        return;
    }
    if (!aborting_ && !parent_cancel_requested_) {
        // Cancel the body (the parent task) to stop whatever it awaits; __aexit__ will
        // uncancel it, so the parent itself is not left cancelled.
        abort();
        parent_cancel_requested_ = true;
        parent_->cancel({});
    }
}

void TaskGroup::abort() noexcept {
    aborting_ = true;
    for (Child* c : children_) {
        if (c->task && !c->task.done()) c->task.cancel();
    }
}

Coro<> TaskGroup::exit(std::exception_ptr error) {
    exiting_ = true;
    const bool body_cancelled = error && is_cancelled(error);
    std::exception_ptr propagate_cancel = body_cancelled ? error : nullptr;
    if (error && !aborting_) abort();

    while (!children_.empty()) {
        on_completed_.emplace(*parent_->loop());
        bool cancelled_here = false;
        try {
            co_await *on_completed_;
        } catch (const CancelledError&) {
            cancelled_here = true;
            propagate_cancel = std::current_exception();
        }
        if (cancelled_here && !aborting_) abort();
        on_completed_.reset();
    }

    if (parent_cancel_requested_) {
        // We cancelled the parent; take our request back. If nobody else asked for a
        // cancellation, do not propagate one.
        if (parent_->uncancel() == 0) propagate_cancel = nullptr;
    }
    if (propagate_cancel && errors_.empty()) std::rethrow_exception(propagate_cancel);
    if (error && !body_cancelled) errors_.push_back(error);
    if (!errors_.empty()) {
        // Keep an outside cancellation request counted while we raise the group.
        if (parent_->cancelling() > 0) {
            parent_->uncancel();
            parent_->cancel({});
        }
        throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
    }
}

}  // namespace aio
