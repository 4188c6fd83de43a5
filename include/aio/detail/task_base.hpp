// The shared state behind Future and Task, and the protocol by which a suspended task
// is woken or cancelled (not user API).
//
// Task states (asyncio's Task.__step, CPython 3.13):
//
//   created ──schedule──► ready ──step──► running ──co_await leaf──► parked
//      │                   ▲  ▲              │                         │
//      │                   │  └──── wake ────┼─────────────────────────┘
//      │                   │                 └── root coroutine returns/throws ──► done
//      └─ cancel() before the first step: the body never runs ──────────────────► done (cancelled)
//
// cancel() runs no user code. It bumps cancelling(), then:
//   parked on a leaf (sleep, lock, queue…): the leaf unregisters and wakes the task, whose
//     co_await raises CancelledError;
//   parked on a future/task/gather: the cancel is forwarded; the task keeps waiting for
//     the outcome (an inner task that swallows it leaves the outer uncancelled);
//   ready or running: `must_cancel` is set and the next suspending co_await raises
//     CancelledError (a woken waiter that gets it passes its wake-up on).
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/promise.hpp"
#include "aio/detail/ready.hpp"
#include "aio/exceptions.hpp"
#include "aio/loop.hpp"

namespace aio::detail {

enum class Status : std::uint8_t { pending, finished, cancelled };

/// A registration to be told when a future completes. Awaiting tasks embed one in their
/// awaiter (no allocation); done callbacks use heap nodes. Circular doubly-linked list.
struct DoneLink {
    DoneLink* next = nullptr;
    DoneLink* prev = nullptr;
    void (*on_done)(DoneLink*) = nullptr;
    [[nodiscard]] bool linked() const noexcept { return next != nullptr; }
};

class FutureBase;

/// A wait on many futures at once (gather, wait). While it is a future's only waiter it
/// is kept in the future's link word itself, so watching 100,000 tasks costs no node per
/// task; a second waiter on that future moves it into a heap node first.
struct GroupWaiter {
    void (*child_done)(GroupWaiter*, FutureBase*) noexcept = nullptr;
};

/// What a parked task waits on. `on_cancel` is called by Task::cancel() and returns true
/// if it took the request (the wait ends with CancelledError, or it was forwarded).
struct Suspension {
    bool (*on_cancel)(Suspension*) = nullptr;
    const char* what = "";  // for dump_tasks: "sleep", "Lock.acquire", …
};

struct ScopeRecord;
struct ContextNode;
/// A task's contextvars context: the head of an immutable chain (contextvars.hpp).
using Context = std::shared_ptr<const ContextNode>;

/// Rarely used per-task data, allocated on first use so the task state stays small.
struct TaskExtras {
    std::string name;
    std::string cancel_message;
    ScopeRecord* scopes = nullptr;  // innermost timeout/task_group scope (timeouts.hpp)
    Context context;
    std::string created_at;  // debug mode: where create_task was called
    std::uint32_t id = 0;    // the number in the default name, moved here from the task
};

class FutureBase {
public:
    static constexpr std::uint8_t kRetrieved = 1;   // result/exception was looked at
    static constexpr std::uint8_t kIsTask = 2;
    static constexpr std::uint8_t kMustCancel = 4;  // deliver CancelledError at the next suspension
    static constexpr std::uint8_t kStarted = 8;     // first step ran
    static constexpr std::uint8_t kParked = 16;     // registered a wake-up during this step
    static constexpr std::uint8_t kNoReport = 32;   // an exception here is not "never retrieved"
    static constexpr std::uint8_t kCancelSeen = 64;  // a CancelledError was raised inside the task
    static constexpr std::uint8_t kShielded = 128;   // inside shielded(): delivery is deferred

    explicit FutureBase(EventLoop* loop, std::uint8_t flags = 0) noexcept : flags_(flags), loop_(loop) {}

    [[nodiscard]] bool done() const noexcept { return status_ != Status::pending; }
    [[nodiscard]] bool cancelled() const noexcept { return status_ == Status::cancelled; }
    [[nodiscard]] bool is_task() const noexcept { return flags_ & kIsTask; }
    [[nodiscard]] EventLoop* loop() const noexcept { return loop_; }
    /// Someone took responsibility for this outcome: a later exception is not reported as
    /// never retrieved (asyncio's gather retrieves its children's late exceptions).
    void mark_retrieved_when_done() noexcept { flags_ |= kNoReport; }

    /// Registers `link` after the others (allocates if a group waiter must move out of
    /// the link word).
    void add_link(DoneLink* link) {
        if (links_ & kGroupTag) move_group_to_node();
        if (DoneLink* first = head()) {
            link->next = first;
            link->prev = first->prev;
            first->prev->next = link;
            first->prev = link;
        } else {
            link->next = link->prev = link;
            set_head(link);
        }
    }
    void remove_link(DoneLink* link) noexcept {
        if (link->next == link) {
            links_ = 0;
        } else {
            link->prev->next = link->next;
            link->next->prev = link->prev;
            if (head() == link) set_head(link->next);
        }
        link->next = link->prev = nullptr;
    }
    /// Registers a group wait (see GroupWaiter).
    void add_group(GroupWaiter* g) {
        if (!links_) {
            links_ = reinterpret_cast<std::uintptr_t>(g) | kGroupTag;
        } else {
            add_group_node(g);
        }
    }
    /// Unregisters a group wait; nothing happens if it is not registered here.
    void remove_group(GroupWaiter* g) noexcept {
        if (links_ == (reinterpret_cast<std::uintptr_t>(g) | kGroupTag)) {
            links_ = 0;
        } else if (head()) {
            remove_group_node(g);
        }
    }
    /// Unregisters everything in order and tells each one (after the status is set).
    void fire_links() noexcept {
        if (links_ & kGroupTag) {
            auto* g = reinterpret_cast<GroupWaiter*>(links_ & ~kGroupTag);
            links_ = 0;
            g->child_done(g, this);
            return;
        }
        while (DoneLink* link = head()) {
            remove_link(link);
            link->on_done(link);
        }
    }
    /// Unregisters everything without telling anyone (loop close).
    void drop_links() noexcept;
    /// Calls `f(link)` for every DoneLink in order (a group wait kept in the link word has
    /// none); `f` may unlink and free the link it is given.
    template <class F>
    void for_each_link(F&& f) const {
        DoneLink* l = head();
        if (!l) return;
        DoneLink* const last = l->prev;
        for (;;) {
            DoneLink* next = l->next;
            const bool at_end = l == last;
            f(l);
            if (at_end) return;
            l = next;
        }
    }

    /// cancel(msg) for a plain Future or a Task (Task::cancel semantics for tasks).
    bool request_cancel(std::string_view msg);

    std::uint32_t refs_ = 1;
    std::uint16_t cancels_ = 0;  // Task.cancelling()
    Status status_ = Status::pending;
    std::uint8_t flags_;
    EventLoop* loop_;

private:
    // The registrations: 0 (none), a GroupWaiter* with kGroupTag (a sole group wait), or
    // the first DoneLink of a circular list.
    static constexpr std::uintptr_t kGroupTag = 1;
    std::uintptr_t links_ = 0;

    [[nodiscard]] DoneLink* head() const noexcept {
        return links_ & kGroupTag ? nullptr : reinterpret_cast<DoneLink*>(links_);
    }
    void set_head(DoneLink* l) noexcept { links_ = reinterpret_cast<std::uintptr_t>(l); }
    void move_group_to_node();
    void add_group_node(GroupWaiter* g);
    void remove_group_node(GroupWaiter* g) noexcept;
};

/// A plain Future's state apart from its value: the exception (or CancelledError).
class PlainFutureBase : public FutureBase {
public:
    using FutureBase::FutureBase;
    bool cancel(std::string_view msg) noexcept;
    std::exception_ptr error_;
};

class TaskBase final : public FutureBase, public ReadyLink {
public:
    /// Allocates a task owning `root` (whose frame holds the result), links it into the
    /// loop's task list and schedules its first step. The loop holds one reference.
    static TaskBase* spawn(EventLoop* loop, std::coroutine_handle<> root);

    static void* operator new(std::size_t n) { return frame_alloc(n); }
    static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }

    void acquire() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) destroy();
    }

    bool cancel(std::string_view msg);
    int uncancel() noexcept {
        if (cancels_ > 0 && --cancels_ == 0) flags_ &= static_cast<std::uint8_t>(~kMustCancel);
        return cancels_;
    }
    [[nodiscard]] int cancelling() const noexcept { return cancels_; }

    /// Called by a leaf awaiter as the task suspends in `h` waiting on `s`.
    /// Returns false if a cancellation is pending: the awaiter must not suspend, and its
    /// await_resume raises CancelledError (asyncio raises at the next suspension).
    bool park(Suspension* s, std::coroutine_handle<> h) noexcept {
        if (must_cancel()) return false;
        resume_ = h;
        waiting_ = s;
        flags_ |= kParked;
        return true;
    }
    /// Parks without a cancellable registration (sleep(0), or already scheduled).
    void park_ready(std::coroutine_handle<> h) noexcept {
        resume_ = h;
        waiting_ = nullptr;
        flags_ |= kParked;
        loop_->schedule_step(this);
    }
    /// The awaited thing is ready: run the task's next step.
    void wake() noexcept {
        waiting_ = nullptr;
        loop_->schedule_step(this);
    }
    /// Consumes a pending cancellation; true if there was one.
    bool take_must_cancel() noexcept {
        if ((flags_ & (kMustCancel | kShielded)) != kMustCancel) return false;
        flags_ &= static_cast<std::uint8_t>(~kMustCancel);
        return true;
    }
    /// A cancellation is pending and may be delivered now (not inside shielded()).
    [[nodiscard]] bool must_cancel() const noexcept { return (flags_ & (kMustCancel | kShielded)) == kMustCancel; }
    /// Enters/leaves a shielded section; returns the previous state for nesting.
    bool set_shielded(bool on) noexcept {
        const bool was = flags_ & kShielded;
        if (on) {
            flags_ |= kShielded;
        } else {
            flags_ &= static_cast<std::uint8_t>(~kShielded);
        }
        return was;
    }
    /// Raises CancelledError(cancel message) inside the task, noting the delivery.
    [[noreturn]] void throw_cancelled();
    /// For result()/await: raises InvalidStateError if pending, CancelledError if
    /// cancelled, the task's exception if it failed; marks the outcome retrieved.
    void rethrow_result();

    [[nodiscard]] std::string name() const;
    void set_name(std::string name);
    [[nodiscard]] std::string_view cancel_message() const noexcept {
        const TaskExtras* e = extras_if();
        return e ? std::string_view(e->cancel_message) : std::string_view();
    }
    TaskExtras& extras();
    [[nodiscard]] TaskExtras* extras_if() const noexcept {
        return extras_or_id_ & kIdTag ? nullptr : reinterpret_cast<TaskExtras*>(extras_or_id_);
    }

    [[nodiscard]] std::coroutine_handle<> root() const noexcept { return root_; }
    [[nodiscard]] std::coroutine_handle<> resume_point() const noexcept { return resume_; }
    [[nodiscard]] Suspension* waiting_on() const noexcept { return waiting_; }
    /// The exception the task finished with (nullptr if none, or cancelled before start).
    [[nodiscard]] std::exception_ptr error() const noexcept;
    /// The root coroutine as "function (file:line)".
    [[nodiscard]] std::string coro_name() const;
    [[nodiscard]] TaskBase* next_in_loop() const noexcept { return next_task_; }
    /// Loop close: marks a pending task cancelled and destroys its frame without
    /// resuming it; releases the loop's reference.
    void abandon() noexcept;
    /// Loop close: forget the loop (handles may outlive it).
    void detach_from_loop() noexcept;

    /// Runs the task's next step (the loop's dispatch for a queued task).
    static void run_step(ReadyLink* link);

private:
    TaskBase(EventLoop* loop, std::coroutine_handle<> root) noexcept;
    void finish() noexcept;
    void complete() noexcept;
    void destroy() noexcept;

    std::coroutine_handle<> root_;
    std::coroutine_handle<> resume_;
    Suspension* waiting_ = nullptr;
    TaskBase* prev_task_ = nullptr;
    TaskBase* next_task_ = nullptr;
    // The TaskExtras once there are any, else (id << 1 | kIdTag): the task's number for
    // its default name ("Task-7") costs no field of its own.
    static constexpr std::uintptr_t kIdTag = 1;
    std::uintptr_t extras_or_id_;
    [[nodiscard]] std::uint32_t id() const noexcept;
};

/// Debug mode: raises RuntimeError (or, from a destructor, aborts with the message) when
/// a loop-affine handle is copied or dropped on a thread other than its loop's.
void check_handle_thread(const EventLoop* loop, const char* what, bool fatal);

/// The context create_task copies: the running task's, or this thread's; nullptr when
/// the running task has none yet (contextvars.cpp).
const Context* context_of_current() noexcept;

/// The task running on this thread, or throws: awaiting a leaf needs a task to park.
inline TaskBase& running_task(const char* what) {
    TaskBase* t = tl_current_task;
    if (!t) [[unlikely]]
        throw RuntimeError(std::string("RuntimeError: ") + what + " must be awaited inside a task (use aio::run or create_task)");
    return *t;
}

/// Base for leaf awaiters (sleep, locks, queues, events…): a task parked on a primitive.
///
/// The derived awaiter provides `static bool cancel_hook(Suspension*)`, which unregisters
/// from the primitive and calls `cancelled_by_request()`.
struct LeafWait : Suspension {
    TaskBase* task = nullptr;

    /// The wait was ended by cancel(): marked in `what`, which nothing needs once the
    /// request is taken; a flag of its own would add 8 bytes to every sleeping frame.
    [[nodiscard]] bool cancelled() const noexcept { return what == kCancelledWait; }
    void mark_cancelled() noexcept { what = kCancelledWait; }

    /// Parks the current task; false means "do not suspend: a cancel is pending".
    bool park(std::coroutine_handle<> h, bool (*hook)(Suspension*), const char* kind) {
        task = &running_task(kind);
        on_cancel = hook;
        what = kind;
        return task->park(this, h);
    }
    /// Parks and, unless a cancel is pending, registers with the primitive by calling
    /// `enlist()`; the usual body of await_suspend.
    template <class Enlist>
    bool park_and(std::coroutine_handle<> h, bool (*hook)(Suspension*), const char* kind, Enlist&& enlist) {
        if (!park(h, hook, kind)) return false;
        enlist();
        return true;
    }
    /// The primitive is ready for this waiter.
    void wake() noexcept { task->wake(); }
    /// Called from cancel_hook after unregistering: end the wait with CancelledError.
    bool cancelled_by_request() noexcept {
        mark_cancelled();
        task->wake();
        return true;
    }
    /// In await_resume: true if this await must raise CancelledError (and consumes the
    /// pending request); the caller passes on any wake-up it received first, then throws.
    bool cancel_pending() noexcept { return cancelled() || (task && task->take_must_cancel()); }

private:
    static constexpr char kCancelledWait[] = "cancelled";  // an object: its address is unique
};

/// Waits for a FutureBase (a Future, a Task) to complete; forwards cancel() to it.
/// The typed awaiters in future.hpp/task.hpp add await_resume.
struct AwaitDone : Suspension, DoneLink {
    FutureBase* fut;
    TaskBase* task = nullptr;

    explicit AwaitDone(FutureBase* f) noexcept : fut(f) {}
    AwaitDone(const AwaitDone&) = delete;
    AwaitDone& operator=(const AwaitDone&) = delete;
    ~AwaitDone() {
        if (linked()) fut->remove_link(this);
    }

    bool await_ready() const {
        if (!fut) throw InvalidStateError("InvalidStateError: awaiting an empty Task/Future handle");
        if (fut->loop_ != tl_running_loop)
            throw RuntimeError("RuntimeError: Task got Future attached to a different loop");
        return fut->done();
    }
    bool await_suspend(std::coroutine_handle<> h) {
        task = &running_task("a Task/Future");
        what = fut->is_task() ? "Task" : "Future";
        on_cancel = &AwaitDone::forward_cancel;
        on_done = &AwaitDone::woken;
        fut->add_link(this);
        if (task->must_cancel()) {
            // cancel() arrived while running: forward it now, as Task.__step does.
            std::string msg(task->cancel_message());
            if (fut->request_cancel(msg)) task->take_must_cancel();
        }
        if (!task->park(this, h)) {
            fut->remove_link(this);
            return false;
        }
        return true;
    }
    /// Before the typed result: a cancellation delivered after the wake-up wins and the
    /// result stays in the future (asyncio discards the await's value).
    void check_cancel() {
        if (task && task->take_must_cancel()) task->throw_cancelled();
    }

private:
    friend FutureBase* awaited_future(const Suspension* s) noexcept;
    static void woken(DoneLink* l) noexcept { static_cast<AwaitDone*>(l)->task->wake(); }
    static bool forward_cancel(Suspension* s) {
        auto* self = static_cast<AwaitDone*>(s);
        return self->fut->request_cancel(self->task->cancel_message());
    }
};

/// shield()'s wait on its inner task (the typed ShieldAwaiter in tasks.hpp adds the task
/// handle): cancelling it ends the wait and leaves the inner task alone.
struct ShieldWait : LeafWait, DoneLink {
    FutureBase* inner_state = nullptr;

    static bool cancel_hook(Suspension* s) noexcept {
        auto* self = static_cast<ShieldWait*>(s);
        if (self->linked()) self->inner_state->remove_link(self);
        return self->cancelled_by_request();
    }
};

/// The future or task a parked task waits on through `s`, or nullptr (dump_tasks nests
/// an awaited task under its awaiter). Known from the cancel hook, so that the
/// suspensions of leaves, which are the most numerous, carry no pointer for it.
inline FutureBase* awaited_future(const Suspension* s) noexcept {
    if (s->on_cancel == &AwaitDone::forward_cancel) return static_cast<const AwaitDone*>(s)->fut;
    if (s->on_cancel == &ShieldWait::cancel_hook) return static_cast<const ShieldWait*>(s)->inner_state;
    return nullptr;
}

}  // namespace aio::detail
