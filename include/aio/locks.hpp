// Synchronization primitives for tasks of one loop: Lock, Event, Condition, Semaphore,
// BoundedSemaphore and Barrier (asyncio.Lock … asyncio.Barrier, CPython 3.13 locks.py).
//
// How a waiter moves (every primitive but Barrier, which is built on Condition):
//
//   co_await acquire()/wait()
//        │ can complete at once (asyncio's fast path): no suspension, and a pending
//        │ cancellation is not delivered here (asyncio does not yield either)
//        ▼
//     queued ──release()/set()/notify()──► woken ──the task runs──► done
//        │                                   │
//        │ cancel(): unlinked at once,       │ cancel() after the wake-up: the task still
//        │ CancelledError at the co_await    │ runs, raises CancelledError and passes on
//        ▼                                   ▼ what it was handed (the lock, a permit, a
//     cancelled                           cancelled   notification) to the next waiter
//
// Queues are intrusive FIFO lists of the awaiters themselves (no allocation). A waiter
// that was woken stays on the list until its task runs, as asyncio's futures stay in
// `_waiters` until the awaiting task's `finally` removes them; a cancelled waiter leaves
// the list at cancel() time (asyncio keeps it there, marked cancelled, and skips it: the
// same observable order, one loop iteration sooner). Wake-ups carry no data except where
// asyncio hands something over: Semaphore passes the permit itself (`_wakeup_next`
// decrements the value on the waiter's behalf); Lock and Condition waiters re-check when
// they run.
//
// Fairness (3.13): a newcomer completes at once only if nobody is queued, so it cannot
// barge ahead of a waiter that was woken but has not run yet.
//
// Loop binding: like asyncio's `_LoopBoundMixin`, a primitive binds to the loop of the
// first task that has to wait on it; waiting on it from another loop raises RuntimeError.
#pragma once

#include <climits>
#include <concepts>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/exceptions.hpp"
#include "aio/loop.hpp"

namespace aio {

class Lock;
class Event;
class Condition;
class Semaphore;
class Barrier;

namespace detail::sync {

/// A waiter's links on its primitive's FIFO list.
struct Waiter {
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    bool linked = false;
    /// Served: the primitive called wake() (asyncio: the waiter's future is done).
    bool woken = false;
};

/// Intrusive FIFO of waiters, in arrival order.
class WaitList {
public:
    [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
    [[nodiscard]] Waiter* front() const noexcept { return head_; }
    void push_back(Waiter* w) noexcept {
        w->prev = tail_;
        w->next = nullptr;
        if (tail_) {
            tail_->next = w;
        } else {
            head_ = w;
        }
        tail_ = w;
        w->linked = true;
    }
    void remove(Waiter* w) noexcept {
        if (!w->linked) return;
        if (w->prev) {
            w->prev->next = w->next;
        } else {
            head_ = w->next;
        }
        if (w->next) {
            w->next->prev = w->prev;
        } else {
            tail_ = w->prev;
        }
        w->prev = w->next = nullptr;
        w->linked = false;
    }
    Waiter* pop_front() noexcept {
        Waiter* w = head_;
        if (w) remove(w);
        return w;
    }

private:
    Waiter* head_ = nullptr;
    Waiter* tail_ = nullptr;
};

/// asyncio's `_LoopBoundMixin`: the loop of the first task that waited.
class LoopBound {
protected:
    /// Called before a task parks (never on a fast path, as asyncio's `_get_loop()`).
    void bind_loop(EventLoop* loop, const char* type) {
        if (!loop_) {
            loop_ = loop;
        } else if (loop_ != loop) [[unlikely]] {
            throw RuntimeError(std::string("RuntimeError: aio::") + type + " is bound to a different event loop");
        }
    }

private:
    EventLoop* loop_ = nullptr;
};

/// Reports an error raised by a release in a guard's destructor (a destructor cannot
/// throw): to the running loop's exception handler, or to stderr outside a loop.
inline void report_guard_error(std::exception_ptr e) noexcept {
    ExceptionContext ctx{"LockGuard could not release on scope exit", std::move(e), {}, {}};
    if (EventLoop* loop = tl_running_loop) {
        loop->call_exception_handler(ctx);
    } else {
        EventLoop::default_exception_handler(ctx);
    }
}

}  // namespace detail::sync

namespace detail {
class LockAcquireAwaiter;
class SemaphoreAcquireAwaiter;
}  // namespace detail

/// Holds a Lock, a Condition's lock or a Semaphore permit, and releases it when
/// destroyed: `auto held = co_await lock.scoped();` is `async with lock:`.
///
/// Move-only. `release()` gives the hold back early. If the release in the destructor
/// fails (the lock was released by hand meanwhile), the error goes to the loop's
/// exception handler: a destructor cannot raise.
/// Thread-safety: loop-affine.
class [[nodiscard]] LockGuard {
public:
    LockGuard() noexcept = default;
    LockGuard(LockGuard&& o) noexcept
        : held_(std::exchange(o.held_, nullptr)), release_(std::exchange(o.release_, nullptr)) {}
    LockGuard& operator=(LockGuard&& o) noexcept {
        if (this != &o) {
            reset();
            held_ = std::exchange(o.held_, nullptr);
            release_ = std::exchange(o.release_, nullptr);
        }
        return *this;
    }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;
    ~LockGuard() { reset(); }

    /// Releases now; the destructor then does nothing. Raises what the primitive's
    /// release() raises, and RuntimeError if this guard holds nothing.
    void release() {
        if (!held_) throw RuntimeError("RuntimeError: LockGuard holds nothing to release");
        void* p = std::exchange(held_, nullptr);
        release_(p);
    }
    /// True until released or moved from.
    [[nodiscard]] bool owns() const noexcept { return held_ != nullptr; }
    explicit operator bool() const noexcept { return owns(); }

private:
    friend class detail::LockAcquireAwaiter;
    friend class detail::SemaphoreAcquireAwaiter;

    /// Adopts a hold: `release_fn(held)` is called once, on release or destruction.
    LockGuard(void* held, void (*release_fn)(void*)) noexcept : held_(held), release_(release_fn) {}

    void reset() noexcept {
        if (!held_) return;
        try {
            release_(std::exchange(held_, nullptr));
        } catch (...) {
            detail::sync::report_guard_error(std::current_exception());
        }
    }

    void* held_ = nullptr;
    void (*release_)(void*) = nullptr;
};

namespace detail {

/// `scoped()`: the acquire awaiter `Base`, returning a LockGuard instead of void.
template <class Base>
class ScopedAcquireAwaiter : public Base {
public:
    using Base::Base;
    [[nodiscard]] LockGuard await_resume() {
        Base::await_resume();
        return this->make_guard();
    }
};

class LockAcquireAwaiter : public LeafWait, public sync::Waiter {
public:
    explicit LockAcquireAwaiter(Lock* lock) noexcept : lock_(lock) {}
    LockAcquireAwaiter(const LockAcquireAwaiter&) = delete;
    LockAcquireAwaiter& operator=(const LockAcquireAwaiter&) = delete;
    inline ~LockAcquireAwaiter();

    inline bool await_ready() noexcept;
    inline bool await_suspend(std::coroutine_handle<> h);
    inline void await_resume();

protected:
    inline LockGuard make_guard() const noexcept;

private:
    static inline bool cancel_hook(Suspension* s) noexcept;
    Lock* lock_;
};

class SemaphoreAcquireAwaiter : public LeafWait, public sync::Waiter {
public:
    explicit SemaphoreAcquireAwaiter(Semaphore* sem) noexcept : sem_(sem) {}
    SemaphoreAcquireAwaiter(const SemaphoreAcquireAwaiter&) = delete;
    SemaphoreAcquireAwaiter& operator=(const SemaphoreAcquireAwaiter&) = delete;
    inline ~SemaphoreAcquireAwaiter();

    inline bool await_ready() noexcept;
    inline bool await_suspend(std::coroutine_handle<> h);
    inline void await_resume();

protected:
    inline LockGuard make_guard() const noexcept;

private:
    static inline bool cancel_hook(Suspension* s) noexcept;
    Semaphore* sem_;
};

class EventWaitAwaiter : public LeafWait, public sync::Waiter {
public:
    explicit EventWaitAwaiter(Event* ev) noexcept : ev_(ev) {}
    EventWaitAwaiter(const EventWaitAwaiter&) = delete;
    EventWaitAwaiter& operator=(const EventWaitAwaiter&) = delete;
    inline ~EventWaitAwaiter();

    inline bool await_ready() const noexcept;
    inline bool await_suspend(std::coroutine_handle<> h);
    inline void await_resume();

private:
    static inline bool cancel_hook(Suspension* s) noexcept;
    Event* ev_;
};

/// Condition.wait()'s middle part: parked until notify() (the lock is not held here).
class ConditionNotifyAwaiter : public LeafWait, public sync::Waiter {
public:
    explicit ConditionNotifyAwaiter(Condition* cond) noexcept : cond_(cond) {}
    ConditionNotifyAwaiter(const ConditionNotifyAwaiter&) = delete;
    ConditionNotifyAwaiter& operator=(const ConditionNotifyAwaiter&) = delete;
    inline ~ConditionNotifyAwaiter();

    bool await_ready() const noexcept { return false; }
    inline bool await_suspend(std::coroutine_handle<> h);
    inline void await_resume();

private:
    static inline bool cancel_hook(Suspension* s) noexcept;
    Condition* cond_;
};

}  // namespace detail

// ---------------------------------------------------------------------------------------

/// A mutual-exclusion lock for tasks (asyncio.Lock). Not owned by a task: any task may
/// release it. FIFO-fair: waiters get it in the order they asked.
/// Thread-safety: loop-affine.
class Lock : detail::sync::LoopBound {
public:
    Lock() noexcept = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    /// Waits until the lock is free, then takes it (Lock.acquire()). Completes without
    /// suspending if the lock is free and nobody is queued.
    /// Cancellation: Cancel-safe: a cancelled waiter does not take the lock, and if it
    /// had already been woken it passes the wake-up on to the next waiter.
    /// Thread-safety: loop-affine.
    [[nodiscard]] detail::LockAcquireAwaiter acquire() noexcept { return detail::LockAcquireAwaiter(this); }

    /// `async with lock:` — acquires and returns a LockGuard that releases on scope exit:
    /// `auto held = co_await lock.scoped();`.
    /// Cancellation: Cancel-safe: as acquire(); no guard is returned and nothing is held.
    /// Thread-safety: loop-affine.
    [[nodiscard]] detail::ScopedAcquireAwaiter<detail::LockAcquireAwaiter> scoped() noexcept {
        return detail::ScopedAcquireAwaiter<detail::LockAcquireAwaiter>(this);
    }

    /// Frees the lock and wakes the first waiter (Lock.release()). Raises
    /// RuntimeError("Lock is not acquired.") if the lock is not held.
    void release() {
        if (!locked_) throw RuntimeError("RuntimeError: Lock is not acquired.");
        locked_ = false;
        wake_up_first();
    }

    /// True if some task holds the lock (Lock.locked()).
    [[nodiscard]] bool locked() const noexcept { return locked_; }

private:
    friend class detail::LockAcquireAwaiter;

    /// asyncio's `_wake_up_first`: wake the head waiter unless it was woken already.
    void wake_up_first() noexcept {
        auto* w = static_cast<detail::LockAcquireAwaiter*>(waiters_.front());
        if (w && !w->woken) {
            w->woken = true;
            w->wake();
        }
    }

    detail::sync::WaitList waiters_;
    bool locked_ = false;
};

/// A flag tasks can wait for (asyncio.Event): set() wakes every waiter; wait() on a set
/// event completes at once.
/// From another thread, set it through loop.call_soon_threadsafe.
/// Thread-safety: loop-affine.
class Event : detail::sync::LoopBound {
public:
    Event() noexcept = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    /// Waits until the flag is set (Event.wait()). A waiter woken by set() returns even if
    /// clear() was called before it ran.
    /// Cancellation: Cancel-safe: the waiter is removed and nothing else changes.
    /// Thread-safety: loop-affine.
    [[nodiscard]] detail::EventWaitAwaiter wait() noexcept { return detail::EventWaitAwaiter(this); }

    /// Sets the flag and wakes all waiters (Event.set()); a no-op if it is set already.
    void set() noexcept {
        if (value_) return;
        value_ = true;
        while (auto* w = static_cast<detail::EventWaitAwaiter*>(waiters_.pop_front())) {
            w->woken = true;
            w->wake();
        }
    }
    /// Resets the flag: later wait() calls block until the next set() (Event.clear()).
    void clear() noexcept { value_ = false; }
    /// The flag (Event.is_set()).
    [[nodiscard]] bool is_set() const noexcept { return value_; }

private:
    friend class detail::EventWaitAwaiter;
    detail::sync::WaitList waiters_;
    bool value_ = false;
};

/// A condition variable for tasks (asyncio.Condition): wait() releases the lock until a
/// notify(), then takes it again.
///
/// The lock is the one given (not owned; it must outlive the Condition) or an own one.
/// acquire/release/locked/scoped act on that lock.
/// Thread-safety: loop-affine.
class Condition : detail::sync::LoopBound {
public:
    explicit Condition(Lock* lock = nullptr) noexcept : lock_(lock ? lock : &own_lock_) {}
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;

    /// Takes the underlying lock (Condition.acquire()).
    /// Cancellation: Cancel-safe: as Lock::acquire().
    /// Thread-safety: loop-affine.
    [[nodiscard]] detail::LockAcquireAwaiter acquire() noexcept { return lock_->acquire(); }
    /// `async with cond:` — the underlying lock's LockGuard.
    /// Cancellation: Cancel-safe: as Lock::scoped().
    /// Thread-safety: loop-affine.
    [[nodiscard]] detail::ScopedAcquireAwaiter<detail::LockAcquireAwaiter> scoped() noexcept { return lock_->scoped(); }
    /// Releases the underlying lock (Condition.release()).
    void release() { lock_->release(); }
    [[nodiscard]] bool locked() const noexcept { return lock_->locked(); }
    /// The underlying lock.
    [[nodiscard]] Lock& lock() const noexcept { return *lock_; }

    /// Releases the lock, waits for notify()/notify_all(), then re-acquires the lock
    /// (Condition.wait()). The lock must be held: RuntimeError("cannot wait on un-acquired
    /// lock") otherwise.
    /// Cancellation: Cancel-safe: the lock is re-acquired before CancelledError
    /// propagates (the waiter queues for it like any other), and a notification this
    /// waiter had received is passed on to another waiter (a spurious wake-up there, which
    /// condition variables allow), as asyncio 3.13 does.
    /// Thread-safety: loop-affine.
    [[nodiscard]] inline Coro<void> wait();

    /// Waits until `pred()` is true and returns its final value (Condition.wait_for()).
    /// `pred` is called with the lock held, first before any waiting; it is stored in the
    /// returned coroutine's frame.
    /// Cancellation: Cancel-safe: as wait(); the lock is held when CancelledError
    /// propagates.
    /// Thread-safety: loop-affine.
    template <class Pred>
        requires std::invocable<Pred&>
    [[nodiscard]] Coro<std::decay_t<std::invoke_result_t<Pred&>>> wait_for(Pred pred) {
        auto result = pred();
        while (!result) {
            co_await wait();
            result = pred();
        }
        co_return result;
    }

    /// Wakes up to `n` waiters, in FIFO order (Condition.notify()). The lock must be held:
    /// RuntimeError("cannot notify on un-acquired lock") otherwise. A woken waiter returns
    /// from wait() only once it has re-acquired the lock, which the caller still holds.
    void notify(int n = 1) {
        if (!locked()) throw RuntimeError("RuntimeError: cannot notify on un-acquired lock");
        notify_unchecked(n);
    }
    /// Wakes every waiter (Condition.notify_all()); the lock must be held.
    void notify_all() { notify(INT_MAX); }

private:
    friend class detail::ConditionNotifyAwaiter;
    friend class Barrier;

    /// asyncio's `_notify(n)`.
    void notify_unchecked(int n) noexcept {
        for (int i = 0; i < n; ++i) {
            auto* w = static_cast<detail::ConditionNotifyAwaiter*>(waiters_.pop_front());
            if (!w) break;
            w->woken = true;
            w->wake();
        }
    }

    Lock own_lock_;
    Lock* lock_;
    detail::sync::WaitList waiters_;
};

/// A counter of permits (asyncio.Semaphore): acquire() takes one, waiting while there
/// are none; release() gives one back. FIFO-fair: while tasks are queued, a newcomer
/// waits behind them even if a permit is free.
/// Thread-safety: loop-affine.
class Semaphore : detail::sync::LoopBound {
public:
    /// `value` permits; std::invalid_argument("Semaphore initial value must be >= 0") if
    /// negative.
    explicit Semaphore(int value = 1) : value_(value) {
        if (value < 0) throw std::invalid_argument("Semaphore initial value must be >= 0");
    }
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    /// Takes a permit, waiting for one if needed (Semaphore.acquire()). Completes without
    /// suspending if locked() is false.
    /// Cancellation: Cancel-safe: a cancelled waiter neither takes nor loses a permit (a
    /// permit it had been handed goes back and on to the next waiter).
    /// Thread-safety: loop-affine.
    [[nodiscard]] detail::SemaphoreAcquireAwaiter acquire() noexcept { return detail::SemaphoreAcquireAwaiter(this); }
    /// `async with sem:` — takes a permit and returns a LockGuard that gives it back.
    /// Cancellation: Cancel-safe: as acquire(); no guard is returned and nothing is held.
    /// Thread-safety: loop-affine.
    [[nodiscard]] detail::ScopedAcquireAwaiter<detail::SemaphoreAcquireAwaiter> scoped() noexcept {
        return detail::ScopedAcquireAwaiter<detail::SemaphoreAcquireAwaiter>(this);
    }

    /// Gives a permit back and hands it to the first waiter, if any (Semaphore.release()).
    /// A BoundedSemaphore raises std::invalid_argument("BoundedSemaphore released too
    /// many times") instead of going above its initial value.
    void release() {
        if (bound_ >= 0 && value_ >= bound_) throw std::invalid_argument("BoundedSemaphore released too many times");
        ++value_;
        wake_up_next();
    }

    /// True if acquire() would wait: no permit, or tasks queued ahead (Semaphore.locked()).
    [[nodiscard]] bool locked() const noexcept { return value_ == 0 || !waiters_.empty(); }
    /// Free permits (asyncio's `_value`); permits handed to woken waiters that have not
    /// run yet are already counted out.
    [[nodiscard]] int value() const noexcept { return value_; }

protected:
    Semaphore(int value, int bound) : Semaphore(value) { bound_ = bound; }

private:
    friend class detail::SemaphoreAcquireAwaiter;

    /// asyncio's `_wake_up_next`: hand a permit to the first waiter not yet woken.
    bool wake_up_next() noexcept {
        for (detail::sync::Waiter* n = waiters_.front(); n; n = n->next) {
            if (!n->woken) {
                --value_;
                n->woken = true;
                static_cast<detail::SemaphoreAcquireAwaiter*>(n)->wake();
                return true;
            }
        }
        return false;
    }

    detail::sync::WaitList waiters_;
    int value_;
    int bound_ = -1;  // BoundedSemaphore: the initial value
};

/// A Semaphore whose release() refuses to exceed the initial value
/// (asyncio.BoundedSemaphore).
/// Thread-safety: loop-affine.
class BoundedSemaphore : public Semaphore {
public:
    /// std::invalid_argument if `value` is negative.
    explicit BoundedSemaphore(int value = 1) : Semaphore(value, value) {}
};

/// A rendezvous for a fixed number of tasks (asyncio.Barrier): each wait() blocks until
/// `parties` tasks are waiting, then all of them go on. Reusable round after round.
///
/// States (asyncio's `_BarrierState`):
///
///   filling ──the parties-th task arrives──► draining ──the last one leaves──► filling
///      │  ▲                                                                      ▲
///      │  └──────────── reset() with nobody inside ─────────────┐                │
///      ├── reset() with tasks inside ──► resetting ── the last one leaves ───────┘
///      └── abort() (from any state) ──► broken ── reset() ──► filling / resetting
///
/// While draining or resetting, newcomers wait for the barrier to refill before they
/// count. Tasks waiting in a round that is reset or aborted get BrokenBarrierError, as do
/// all wait() calls on a broken barrier.
/// Thread-safety: loop-affine.
class Barrier {
public:
    /// std::invalid_argument("parties must be > 0") if `parties` < 1.
    explicit Barrier(int parties) : parties_(parties) {
        if (parties < 1) throw std::invalid_argument("parties must be > 0");
    }
    Barrier(const Barrier&) = delete;
    Barrier& operator=(const Barrier&) = delete;

    /// Waits until `parties()` tasks are waiting and returns this task's arrival index in
    /// the round, 0 … parties()-1 (Barrier.wait()). Raises BrokenBarrierError if the
    /// barrier is broken or gets reset/aborted while waiting.
    /// Cancellation: Cancel-safe: a cancelled task leaves the barrier (n_waiting() drops
    /// by one) without breaking it, as asyncio's does; the round still needs `parties()`
    /// arrivals.
    /// Thread-safety: loop-affine.
    [[nodiscard]] inline Coro<int> wait();

    /// Back to the empty filling state (Barrier.reset()); tasks waiting in the current
    /// round get BrokenBarrierError. asyncio's reset() is a coroutine that never suspends;
    /// here it is a plain call.
    void reset() noexcept {
        if (count_ > 0) {
            state_ = State::resetting;
        } else {
            state_ = State::filling;
        }
        cond_.notify_unchecked(INT_MAX);
    }
    /// Breaks the barrier (Barrier.abort()): current and future wait() calls raise
    /// BrokenBarrierError until reset(). asyncio's abort() is a coroutine that never
    /// suspends; here it is a plain call.
    void abort() noexcept {
        state_ = State::broken;
        cond_.notify_unchecked(INT_MAX);
    }

    /// The number of tasks needed to pass (Barrier.parties).
    [[nodiscard]] int parties() const noexcept { return parties_; }
    /// Tasks waiting in the current filling round (Barrier.n_waiting).
    [[nodiscard]] int n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
    /// True after abort() until reset() (Barrier.broken).
    [[nodiscard]] bool broken() const noexcept { return state_ == State::broken; }

private:
    enum class State : std::uint8_t { filling, draining, resetting, broken };

    /// asyncio's `_exit`: the last task out of a draining/resetting round refills it.
    void exit_round() noexcept {
        if (count_ == 0) {
            if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
            cond_.notify_unchecked(INT_MAX);
        }
    }

    Condition cond_;
    int parties_;
    int count_ = 0;  // tasks inside wait() past the entry check, this round
    State state_ = State::filling;
};

// ---- implementation -------------------------------------------------------------------

namespace detail {

// Lock.acquire (3.13): the fast path needs "not locked and no live waiter", so a waiter
// that was woken but has not run yet keeps newcomers out; it takes the lock when it runs.
LockAcquireAwaiter::~LockAcquireAwaiter() {
    // A frame destroyed while suspended here (loop close) must not stay on the list.
    if (linked) lock_->waiters_.remove(this);
}

bool LockAcquireAwaiter::await_ready() noexcept {
    if (!lock_->locked_ && lock_->waiters_.empty()) {
        lock_->locked_ = true;
        return true;  // `task` stays null: await_resume knows nothing is pending
    }
    return false;
}

bool LockAcquireAwaiter::await_suspend(std::coroutine_handle<> h) {
    lock_->bind_loop(running_task("Lock.acquire").loop(), "Lock");
    if (!park(h, &LockAcquireAwaiter::cancel_hook, "Lock.acquire")) return false;
    lock_->waiters_.push_back(this);
    return true;
}

void LockAcquireAwaiter::await_resume() {
    if (!task) return;  // taken in await_ready
    if (cancel_pending()) {
        lock_->waiters_.remove(this);
        // Keep the invariant "unlocked with waiters ⇒ the head has been woken": if this
        // waiter was the one woken, the wake-up goes to the next one.
        if (!lock_->locked_) lock_->wake_up_first();
        task->throw_cancelled();
    }
    lock_->waiters_.remove(this);
    lock_->locked_ = true;  // only release() wakes, and nobody can take it meanwhile
}

LockGuard LockAcquireAwaiter::make_guard() const noexcept {
    return LockGuard(lock_, [](void* p) { static_cast<Lock*>(p)->release(); });
}

bool LockAcquireAwaiter::cancel_hook(Suspension* s) noexcept {
    // Only reached while not woken (a wake clears the task's wait record).
    auto* self = static_cast<LockAcquireAwaiter*>(s);
    self->lock_->waiters_.remove(self);
    return self->cancelled_by_request();
}

// Semaphore.acquire (3.13): the releaser hands the permit over (`_wakeup_next` counts it
// out), so a woken waiter that is then cancelled gives it back and wakes the next one.
SemaphoreAcquireAwaiter::~SemaphoreAcquireAwaiter() {
    if (linked) sem_->waiters_.remove(this);
}

bool SemaphoreAcquireAwaiter::await_ready() noexcept {
    if (!sem_->locked()) {
        --sem_->value_;
        return true;
    }
    return false;
}

bool SemaphoreAcquireAwaiter::await_suspend(std::coroutine_handle<> h) {
    sem_->bind_loop(running_task("Semaphore.acquire").loop(), "Semaphore");
    if (!park(h, &SemaphoreAcquireAwaiter::cancel_hook, "Semaphore.acquire")) return false;
    sem_->waiters_.push_back(this);
    return true;
}

void SemaphoreAcquireAwaiter::await_resume() {
    if (!task) return;  // took a permit in await_ready
    const bool cancel = cancel_pending();
    sem_->waiters_.remove(this);
    if (cancel && woken) ++sem_->value_;  // handed a permit we will not use: give it back
    // asyncio's `finally`: newcomers may have queued behind us while permits were free.
    while (sem_->value_ > 0 && sem_->wake_up_next()) {
    }
    if (cancel) task->throw_cancelled();
}

LockGuard SemaphoreAcquireAwaiter::make_guard() const noexcept {
    return LockGuard(sem_, [](void* p) { static_cast<Semaphore*>(p)->release(); });
}

bool SemaphoreAcquireAwaiter::cancel_hook(Suspension* s) noexcept {
    auto* self = static_cast<SemaphoreAcquireAwaiter*>(s);
    self->sem_->waiters_.remove(self);
    return self->cancelled_by_request();
}

// Event.wait: set() unlinks and wakes everyone at once; nothing is handed over, so a
// woken-then-cancelled waiter has nothing to pass on.
EventWaitAwaiter::~EventWaitAwaiter() {
    if (linked) ev_->waiters_.remove(this);
}

bool EventWaitAwaiter::await_ready() const noexcept { return ev_->value_; }

bool EventWaitAwaiter::await_suspend(std::coroutine_handle<> h) {
    ev_->bind_loop(running_task("Event.wait").loop(), "Event");
    if (!park(h, &EventWaitAwaiter::cancel_hook, "Event.wait")) return false;
    ev_->waiters_.push_back(this);
    return true;
}

void EventWaitAwaiter::await_resume() {
    if (!task) return;
    if (cancel_pending()) task->throw_cancelled();
}

bool EventWaitAwaiter::cancel_hook(Suspension* s) noexcept {
    auto* self = static_cast<EventWaitAwaiter*>(s);
    self->ev_->waiters_.remove(self);
    return self->cancelled_by_request();
}

// Condition's notification wait: notify() unlinks the waiters it wakes, so a notified
// waiter is never counted twice; Condition::wait passes a notification on if cancelled.
ConditionNotifyAwaiter::~ConditionNotifyAwaiter() {
    if (linked) cond_->waiters_.remove(this);
}

bool ConditionNotifyAwaiter::await_suspend(std::coroutine_handle<> h) {
    if (!park(h, &ConditionNotifyAwaiter::cancel_hook, "Condition.wait")) return false;
    cond_->waiters_.push_back(this);
    return true;
}

void ConditionNotifyAwaiter::await_resume() {
    if (cancel_pending()) task->throw_cancelled();
}

bool ConditionNotifyAwaiter::cancel_hook(Suspension* s) noexcept {
    auto* self = static_cast<ConditionNotifyAwaiter*>(s);
    self->cond_->waiters_.remove(self);
    return self->cancelled_by_request();
}

}  // namespace detail

Coro<void> Condition::wait() {
    if (!locked()) throw RuntimeError("RuntimeError: cannot wait on un-acquired lock");
    // Checked before the lock is released (asyncio creates its future first).
    bind_loop(detail::running_task("Condition.wait").loop(), "Condition");
    lock_->release();
    std::exception_ptr cancelled;
    try {
        co_await detail::ConditionNotifyAwaiter(this);
    } catch (const CancelledError&) {
        cancelled = std::current_exception();
    }
    // The lock is re-acquired even if the wait was cancelled; a cancel that arrives during
    // the re-acquire is kept (the most recent one wins) and the acquire is retried.
    for (;;) {
        try {
            co_await lock_->acquire();
            break;
        } catch (const CancelledError&) {
            cancelled = std::current_exception();
        }
    }
    if (cancelled) {
        // The notification may have been meant for us: wake someone else instead.
        notify_unchecked(1);
        std::rethrow_exception(cancelled);
    }
}

// Barrier.wait (3.13), on the barrier's own Condition. Its lock is only ever held between
// suspension points, so taking it never waits; that is why reset() and abort() can be
// plain calls.
Coro<int> Barrier::wait() {
    LockGuard held = co_await cond_.scoped();
    // Block while the previous round drains or resets.
    co_await cond_.wait_for([this] { return state_ != State::draining && state_ != State::resetting; });
    if (state_ == State::broken) throw BrokenBarrierError();
    const int index = count_++;
    try {
        if (index + 1 == parties_) {
            state_ = State::draining;  // release the round
            cond_.notify_unchecked(INT_MAX);
        } else {
            co_await cond_.wait_for([this] { return state_ != State::filling; });
            if (state_ == State::broken || state_ == State::resetting) throw BrokenBarrierError();
        }
    } catch (...) {
        --count_;
        exit_round();
        throw;
    }
    --count_;
    exit_round();
    co_return index;
}

}  // namespace aio
