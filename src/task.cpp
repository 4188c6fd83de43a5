#include "aio/task.hpp"

#include <chrono>
#include <cstdio>

#include <fmt/core.h>

#include "runtime/loop_impl.hpp"

namespace aio {
namespace detail {

namespace {
thread_local std::uint32_t g_next_task_id = 0;  // names: Task-1, Task-2, … per thread
thread_local std::uint64_t g_next_callback_id = 0;

std::string frame_name(const SourceLocation& where) {
    return fmt::format("{} ({}:{})", where.function_name(), where.file_name(), where.line());
}
}  // namespace

std::uint64_t next_callback_id() noexcept { return ++g_next_callback_id; }

void DoneCallback::fire(DoneLink* l) noexcept {
    auto* node = static_cast<DoneCallback*>(l);
    // asyncio schedules done callbacks on the future's loop rather than calling them inline.
    if (node->loop && !node->loop->is_closed()) {
        try {
            node->loop->call_soon([fn = std::move(node->fn)]() mutable { fn(); });
        } catch (...) {
            node->loop->call_exception_handler({"could not schedule a done callback", std::current_exception(), {}, {}});
        }
    }
    delete node;
}

std::size_t remove_done_callback(FutureBase* f, std::uint64_t id) noexcept {
    std::size_t removed = 0;
    f->for_each_link([&](DoneLink* l) {
        if (l->on_done == &DoneCallback::fire && static_cast<DoneCallback*>(l)->id == id) {
            f->remove_link(l);
            delete static_cast<DoneCallback*>(l);
            ++removed;
        }
    });
    return removed;
}

void report_never_retrieved(EventLoop* loop, const std::exception_ptr& e, const char* what,
                            const std::string& name, const std::string& where) noexcept {
    ExceptionContext ctx{what, e, name, where};
    if (loop) {
        loop->call_exception_handler(ctx);
    } else {
        EventLoop::default_exception_handler(ctx);
    }
}

void report_never_awaited(const SourceLocation& where) noexcept {
    ExceptionContext ctx{"coroutine was never awaited (destroyed before it ran)", nullptr, {}, frame_name(where)};
    if (tl_running_loop) {
        tl_running_loop->call_exception_handler(ctx);
    } else {
        EventLoop::default_exception_handler(ctx);
    }
}

// ---- FutureBase: group waits that share a future with other waiters ----

namespace {
/// A group wait that had to leave the future's link word: an ordinary DoneLink.
struct GroupLink : DoneLink {
    GroupWaiter* group;
    FutureBase* future;

    GroupLink(GroupWaiter* g, FutureBase* f) noexcept : group(g), future(f) { on_done = &GroupLink::fire; }
    static void* operator new(std::size_t n) { return frame_alloc(n); }
    static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }

    static void fire(DoneLink* l) noexcept {
        auto* self = static_cast<GroupLink*>(l);
        GroupWaiter* g = self->group;
        FutureBase* f = self->future;
        delete self;
        g->child_done(g, f);
    }
};
}  // namespace

void FutureBase::move_group_to_node() {
    auto* g = reinterpret_cast<GroupWaiter*>(links_ & ~kGroupTag);
    auto* node = new GroupLink(g, this);  // may throw: the registration is still intact
    links_ = 0;
    add_link(node);
}

void FutureBase::add_group_node(GroupWaiter* g) { add_link(new GroupLink(g, this)); }

void FutureBase::remove_group_node(GroupWaiter* g) noexcept {
    for_each_link([&](DoneLink* l) {
        if (l->on_done == &GroupLink::fire && static_cast<GroupLink*>(l)->group == g) {
            remove_link(l);
            delete static_cast<GroupLink*>(l);
        }
    });
}

void FutureBase::drop_links() noexcept {
    if (links_ & kGroupTag) {
        links_ = 0;
        return;
    }
    while (DoneLink* link = head()) {
        remove_link(link);
        if (link->on_done == &GroupLink::fire) delete static_cast<GroupLink*>(link);
    }
}

bool PlainFutureBase::cancel(std::string_view msg) noexcept {
    if (done()) return false;
    try {
        error_ = std::make_exception_ptr(CancelledError(std::string(msg)));
    } catch (...) {
        error_ = std::current_exception();
    }
    status_ = Status::cancelled;
    fire_links();
    return true;
}

bool FutureBase::request_cancel(std::string_view msg) {
    if (is_task()) return static_cast<TaskBase*>(this)->cancel(msg);
    return static_cast<PlainFutureBase*>(this)->cancel(msg);
}

// ---- TaskBase ----

TaskBase::TaskBase(EventLoop* loop, std::coroutine_handle<> root) noexcept
    : FutureBase(loop, kIsTask),
      root_(root),
      resume_(root),
      extras_or_id_(static_cast<std::uintptr_t>(++g_next_task_id) << 1 | kIdTag) {}

TaskBase* TaskBase::spawn(EventLoop* loop, std::coroutine_handle<> root) {
    auto* t = new TaskBase(loop, root);
    // Link into the loop's list (all_tasks, dump_tasks, close-time reports).
    t->next_task_ = loop->tasks_head_;
    if (t->next_task_) t->next_task_->prev_task_ = t;
    loop->tasks_head_ = t;
    // contextvars: the child starts with its creator's context (one pointer copy).
    if (const Context* ctx = context_of_current(); ctx && *ctx) t->extras().context = *ctx;
    if (loop->get_debug()) {
        if (TaskBase* parent = tl_current_task) {
            // The root frame lives as long as the parent runs; the frame the step resumed
            // (resume_) may already have finished and been freed.
            t->extras().created_at = fmt::format("created by task {} ({})", parent->name(), parent->coro_name());
        }
    }
    loop->schedule_step(t);
    return t;
}

TaskExtras& TaskBase::extras() {
    if (TaskExtras* e = extras_if()) return *e;
    auto* e = new TaskExtras;
    e->id = id();
    extras_or_id_ = reinterpret_cast<std::uintptr_t>(e);
    return *e;
}

std::uint32_t TaskBase::id() const noexcept {
    const TaskExtras* e = extras_if();
    return e ? e->id : static_cast<std::uint32_t>(extras_or_id_ >> 1);
}

std::string TaskBase::name() const {
    if (const TaskExtras* e = extras_if(); e && !e->name.empty()) return e->name;
    return fmt::format("Task-{}", id());
}

void TaskBase::set_name(std::string name) { extras().name = std::move(name); }

std::string TaskBase::coro_name() const { return frame_name(PromiseBase::of(root_).where_); }

bool TaskBase::cancel(std::string_view msg) {
    if (done()) return false;
    if (cancels_ < 0xffff) ++cancels_;
    if (!msg.empty()) extras().cancel_message = std::string(msg);
    // Inside shielded() the request is only recorded; it is delivered afterwards.
    if (!(flags_ & kShielded) && waiting_ && waiting_->on_cancel && waiting_->on_cancel(waiting_)) return true;
    flags_ |= kMustCancel;
    return true;
}

void TaskBase::throw_cancelled() {
    flags_ |= kCancelSeen;
    throw CancelledError(std::string(cancel_message()));
}

std::exception_ptr TaskBase::error() const noexcept {
    if (!(flags_ & kStarted) || !root_.done()) return nullptr;
    return PromiseBase::of(root_).error_;
}

void TaskBase::rethrow_result() {
    if (!done()) throw InvalidStateError("InvalidStateError: Result is not set.");
    flags_ |= kRetrieved;
    std::exception_ptr e = error();
    if (status_ == Status::cancelled) {
        if (TaskBase* waiter = tl_current_task) waiter->flags_ |= kCancelSeen;
        if (e) std::rethrow_exception(e);
        throw CancelledError(std::string(cancel_message()));
    }
    if (e) std::rethrow_exception(e);
}

void TaskBase::run_step(ReadyLink* link) {
    auto* t = static_cast<TaskBase*>(link);
    if (!(t->flags_ & kStarted)) {
        if (t->must_cancel()) {  // cancelled before its first step: never runs
            t->status_ = Status::cancelled;
            t->complete();
            return;
        }
        t->flags_ |= kStarted;
    }
    t->flags_ &= static_cast<std::uint8_t>(~kParked);
    EventLoop* loop = t->loop_;
    loop->io_budget_ = EventLoop::kIoBudget;
    const bool timed = loop->get_debug();
    const Clock::time_point start = timed ? Clock::now() : Clock::time_point{};
    const std::coroutine_handle<> resumed = t->resume_;

    TaskBase* prev = std::exchange(tl_current_task, t);
    resume_chain(resumed);
    tl_current_task = prev;

    if (timed) {
        auto took = Clock::now() - start;
        if (took > loop->slow_callback_duration) {
            // Name the task and the coroutine that ran: the classic time.sleep() in a
            // coroutine is found by name, not by guessing.
            std::string where = t->root_.done() ? t->coro_name() : frame_name(PromiseBase::of(t->resume_).where_);
            loop->call_exception_handler({fmt::format("Executing task {} took {:.3f} seconds (blocking the event loop)",
                                                      t->name(), std::chrono::duration<double>(took).count()),
                                          nullptr, t->name(), where});
        }
    }
    if (t->root_.done()) {
        t->finish();
    } else if (!(t->flags_ & kParked)) [[unlikely]] {
        loop->call_exception_handler(
            {"Task suspended on an awaitable that is not an aiocpp awaitable; it will never be resumed", nullptr,
             t->name(), frame_name(PromiseBase::of(t->resume_).where_)});
    }
}

void TaskBase::finish() noexcept {
    std::exception_ptr e = PromiseBase::of(root_).error_;
    status_ = e && is_cancelled(e) ? Status::cancelled : Status::finished;
    if (status_ == Status::finished && cancels_ > 0 && (flags_ & kCancelSeen) && loop_->get_debug()) {
        loop_->call_exception_handler({fmt::format("Task {} swallowed a cancellation request (cancelling()={}, "
                                                   "finished without uncancel())",
                                                   name(), cancels_),
                                       nullptr, name(), coro_name()});
    }
    complete();
}

void TaskBase::complete() noexcept {
    fire_links();
    if (status_ == Status::finished && refs_ == 1 && !(flags_ & (kRetrieved | kNoReport))) {
        // Only the loop holds the task: nobody can ever retrieve this exception.
        if (std::exception_ptr e = error()) {
            flags_ |= kRetrieved;
            report_never_retrieved(loop_, e, "Task exception was never retrieved", name(), coro_name());
        }
    }
    release();  // the loop's reference
}

void TaskBase::destroy() noexcept {
    if (status_ == Status::finished && !(flags_ & (kRetrieved | kNoReport))) {
        if (std::exception_ptr e = error())
            report_never_retrieved(loop_, e, "Task exception was never retrieved", name(), coro_name());
    }
    if (loop_) {
        if (prev_task_) {
            prev_task_->next_task_ = next_task_;
        } else {
            loop_->tasks_head_ = next_task_;
        }
        if (next_task_) next_task_->prev_task_ = prev_task_;
    }
    if (root_) root_.destroy();
    delete extras_if();
    delete this;
}

void TaskBase::abandon() noexcept {
    if (loop_) {
        ExceptionContext ctx{"Task was destroyed but it is pending!", nullptr, name(), coro_name()};
        if (const TaskExtras* e = extras_if(); e && !e->created_at.empty()) ctx.where += "; " + e->created_at;
        loop_->call_exception_handler(ctx);
    }
    status_ = Status::cancelled;
    flags_ |= kRetrieved;
    drop_links();
    // Destroying the frame runs the awaiters' destructors, which unregister them.
    root_.destroy();
    root_ = {};
    waiting_ = nullptr;
    release();
}

void TaskBase::detach_from_loop() noexcept {
    prev_task_ = next_task_ = nullptr;
    loop_ = nullptr;
}

void close_pending_tasks(EventLoop& loop) noexcept {
    // Collect first: abandoning a task may release others.
    std::vector<TaskBase*> pending;
    for (TaskBase* t = loop.tasks_head_; t; t = t->next_in_loop()) {
        if (!t->done()) {
            t->acquire();
            pending.push_back(t);
        }
    }
    for (TaskBase* t : pending) {
        if (!t->done()) t->abandon();
    }
    // Frames destroyed above may have woken other tasks; every one of them is still held
    // by `pending` (or already done), so the queue can be emptied safely before release.
    loop.discard_ready();
    // Tasks still referenced by handles outlive the loop; they forget it.
    std::vector<TaskBase*> left;
    for (TaskBase* t = loop.tasks_head_; t; t = t->next_in_loop()) left.push_back(t);
    loop.tasks_head_ = nullptr;
    for (TaskBase* t : left) t->detach_from_loop();
    for (TaskBase* t : pending) t->release();
}

}  // namespace detail

std::exception_ptr AnyTask::exception() const {
    if (!t_->done()) throw InvalidStateError("InvalidStateError: Exception is not set.");
    if (t_->cancelled()) t_->rethrow_result();
    t_->flags_ |= detail::FutureBase::kRetrieved;
    return t_->error();
}

AnyTask current_task() noexcept { return AnyTask(detail::tl_current_task); }

std::vector<AnyTask> all_tasks() {
    std::vector<AnyTask> out;
    for (detail::TaskBase* t = get_running_loop().tasks_head_; t; t = t->next_in_loop()) {
        if (!t->done()) out.emplace_back(t);
    }
    return out;
}

std::vector<std::string> AnyTask::get_stack() const {
    std::vector<std::string> lines;
    if (t_->done() || !t_->root()) return lines;
    std::coroutine_handle<> h = t_->resume_point();
    // Walk the awaiting-parent links from the innermost suspended frame to the root.
    while (h) {
        detail::PromiseBase& p = detail::PromiseBase::of(h);
        lines.push_back(detail::frame_name(p.where_));
        if (h == t_->root()) break;
        h = p.continuation_;
    }
    return lines;
}

void AnyTask::print_stack(std::FILE* out) const {
    std::string text = fmt::format("Stack for task {} ({}):\n", get_name(),
                                   t_->done() ? (t_->cancelled() ? "cancelled" : "done") : "pending");
    for (const auto& line : get_stack()) text += "  " + line + "\n";
    std::fputs(text.c_str(), out);
}

}  // namespace aio
