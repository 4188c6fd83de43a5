// Queue, PriorityQueue and LifoQueue: loop-affine producer/consumer queues (asyncio.Queue,
// asyncio.PriorityQueue, asyncio.LifoQueue, CPython 3.13 queues.py).
//
// The algorithm is asyncio's: put_nowait() wakes one blocked getter, get_nowait() wakes one
// blocked putter, and wake-ups carry no data. A woken waiter re-checks the queue at its
// turn; if another task took the item (or the free slot) first, it waits again at the back
// of the line, exactly as asyncio's `while self.empty(): ... await getter` loop does.
//
// A blocked get()/put() (the waiter lives in the awaiter, in the suspended frame):
//
//   idle ──co_await, no item/slot──► listed ──_wakeup_next / shutdown──► notified
//                                     ▲  │                                  │ its turn in
//                                     │  └─ cancel(): unlinked; the task    │ the ready queue
//                                     │     raises CancelledError           ▼
//                                     └──── nothing to take (stolen) ◄── re-check
//                                                                           │ item/slot, shut
//                                                                           ▼ down or cancelled
//                                                                        resumed: the task's
//                                                                        step runs at once
//
// Why the awaiter, not the task, is scheduled on a wake-up: a single co_await cannot
// suspend twice, so the "re-check and maybe wait again" of asyncio's loop must happen
// before the task is resumed. The awaiter is itself a ReadyItem queued where asyncio
// queues the task's __wakeup; at that turn it re-checks and either resumes the task's
// step right there (same position in the ready queue as asyncio, one hop, no allocation)
// or goes back to the end of the waiter list with the task still parked.
//
// Cancellation of a notified waiter: the cancel is taken by the awaiter (the task stays
// parked on it) and delivered when its turn resumes the task; await_resume then passes
// the wake-up on when the queue still has an item (put: a free slot), as asyncio's
// `except` branch calls `_wakeup_next`. So no item and no slot is ever lost.
//
// Lifetime: a queue must outlive the tasks blocked on it (as a std::mutex must).
#pragma once

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "aio/detail/ready.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/exceptions.hpp"
#include "aio/loop.hpp"

namespace aio {

namespace detail {

// ---- storage policies: how items are ordered (asyncio's _init/_put/_get) ----

/// FIFO storage: a growable power-of-two ring buffer, so a queue that oscillates around
/// a steady size never allocates (std::deque allocates and frees a block every few
/// hundred operations).
template <class T>
class FifoStore {
public:
    FifoStore() = default;
    FifoStore(const FifoStore&) = delete;
    FifoStore& operator=(const FifoStore&) = delete;
    ~FifoStore() {
        clear();
        if (buf_) std::allocator<T>().deallocate(buf_, cap_);
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    void push(T&& item) {
        if (size_ == cap_) grow();
        std::construct_at(buf_ + ((head_ + size_) & (cap_ - 1)), std::move(item));
        ++size_;
    }
    T pop() {
        T* slot = buf_ + head_;
        T item(std::move(*slot));
        std::destroy_at(slot);
        head_ = (head_ + 1) & (cap_ - 1);
        --size_;
        return item;
    }
    void clear() noexcept {
        for (; size_ > 0; --size_) {
            std::destroy_at(buf_ + head_);
            head_ = (head_ + 1) & (cap_ - 1);
        }
        head_ = 0;
    }

private:
    void grow() {
        const std::size_t cap = cap_ ? cap_ * 2 : 8;
        T* buf = std::allocator<T>().allocate(cap);
        std::size_t i = 0;
        try {
            for (; i < size_; ++i)
                std::construct_at(buf + i, std::move_if_noexcept(buf_[(head_ + i) & (cap_ - 1)]));
        } catch (...) {
            std::destroy(buf, buf + i);
            std::allocator<T>().deallocate(buf, cap);
            throw;
        }
        for (i = 0; i < size_; ++i) std::destroy_at(buf_ + ((head_ + i) & (cap_ - 1)));
        if (buf_) std::allocator<T>().deallocate(buf_, cap_);
        buf_ = buf;
        cap_ = cap;
        head_ = 0;
    }

    T* buf_ = nullptr;
    std::size_t cap_ = 0;  // 0 or a power of two
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

/// LIFO storage (LifoQueue): the most recently added item comes out first.
template <class T>
class LifoStore {
public:
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    void push(T&& item) { items_.push_back(std::move(item)); }
    T pop() {
        T item(std::move(items_.back()));
        items_.pop_back();
        return item;
    }
    void clear() noexcept { items_.clear(); }

private:
    std::vector<T> items_;
};

/// Binary-heap storage (PriorityQueue): the smallest item under `Compare` comes out
/// first, as with heapq. The std heap algorithms build a max-heap, so they get the
/// comparison with its arguments swapped.
template <class T, class Compare>
class HeapStore {
public:
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    void push(T&& item) {
        items_.push_back(std::move(item));
        std::push_heap(items_.begin(), items_.end(), Inverted{&less_});
    }
    T pop() {
        std::pop_heap(items_.begin(), items_.end(), Inverted{&less_});
        T item(std::move(items_.back()));
        items_.pop_back();
        return item;
    }
    void clear() noexcept { items_.clear(); }

private:
    struct Inverted {
        Compare* less;
        bool operator()(const T& a, const T& b) const { return (*less)(b, a); }
    };
    std::vector<T> items_;
    [[no_unique_address]] Compare less_{};
};

// ---- waiter lists ----

/// Links of a waiter in a queue's FIFO list (null when not linked).
struct WaitLink {
    WaitLink* next = nullptr;
    WaitLink* prev = nullptr;
    [[nodiscard]] bool linked() const noexcept { return next != nullptr; }
};

/// Intrusive FIFO of waiters; circular around a sentinel, so linking and unlinking never
/// test for the ends. Not movable (the sentinel's address is in the ring).
class WaitList {
public:
    WaitList() noexcept { head_.next = head_.prev = &head_; }
    WaitList(const WaitList&) = delete;
    WaitList& operator=(const WaitList&) = delete;
    /// Unlinks leftovers (a queue destroyed under blocked tasks) so their destructors
    /// do not touch freed memory.
    ~WaitList() {
        while (pop_front()) {
        }
    }

    [[nodiscard]] bool empty() const noexcept { return head_.next == &head_; }
    void push_back(WaitLink* n) noexcept {
        n->next = &head_;
        n->prev = head_.prev;
        head_.prev->next = n;
        head_.prev = n;
    }
    WaitLink* pop_front() noexcept {
        if (empty()) return nullptr;
        WaitLink* n = head_.next;
        unlink(n);
        return n;
    }
    static void unlink(WaitLink* n) noexcept {
        n->prev->next = n->next;
        n->next->prev = n->prev;
        n->next = n->prev = nullptr;
    }

private:
    WaitLink head_;
};

/// A task blocked in get() or put(). See the state diagram at the top of this file.
class QueueWaiter : public LeafWait, public ReadyItem, public WaitLink {
public:
    QueueWaiter(const QueueWaiter&) = delete;
    QueueWaiter& operator=(const QueueWaiter&) = delete;

    /// asyncio's `_wakeup_next(waiters)`: wakes the first waiter of `list`, if any.
    /// Cancelled waiters unlink themselves at once, so the first one is always live.
    static void wakeup_next(WaitList& list) noexcept {
        if (WaitLink* n = list.pop_front()) static_cast<QueueWaiter*>(n)->notify();
    }
    /// shutdown(): every waiter of `list` re-checks (and raises QueueShutDown).
    static void wakeup_all(WaitList& list) noexcept {
        while (WaitLink* n = list.pop_front()) static_cast<QueueWaiter*>(n)->notify();
    }

protected:
    enum class State : std::uint8_t { idle, listed, notified, resumed };

    QueueWaiter(WaitList& list, void (*turn)(ReadyItem*)) noexcept : list_(&list) { run = turn; }
    ~QueueWaiter() {
        // Listed: the frame is destroyed while blocked (loop close). Notified: only at
        // loop close too, after the loop dropped its ready queue; nothing to undo.
        if (linked()) WaitList::unlink(this);
    }

    /// await_suspend: parks the task and joins the back of the line (unless a cancel is
    /// pending: then it does not suspend and await_resume raises).
    bool wait_in_line(std::coroutine_handle<> h, const char* kind) {
        if (!park(h, &QueueWaiter::cancel_hook, kind)) return false;
        state_ = State::listed;
        list_->push_back(this);
        return true;
    }

    /// This waiter's turn after a wake-up. `proceed`: the queue can serve it now.
    void on_turn(bool proceed) {
        if (!proceed && !cancelled()) {
            // Someone took the item (slot) first: wait again, at the back, as asyncio
            // appends a new future. The task stays parked on this awaiter.
            state_ = State::listed;
            list_->push_back(this);
            return;
        }
        state_ = State::resumed;
        TaskBase* t = task;
        // Drop the task's pointer to this awaiter (it dies during the step) and run the
        // step now: this turn is where asyncio runs the task's __wakeup. While the task
        // was parked here, cancel() always reached cancel_hook, which takes the request,
        // so no must_cancel is pending and park() succeeds.
        t->park(nullptr, t->resume_point());
        TaskBase::run_step(t);  // `this` may be gone from here on
    }

    /// In await_resume, after cancel_pending(): true if a wake-up was consumed by this
    /// wait, which must then be passed on.
    [[nodiscard]] bool was_woken() const noexcept { return state_ == State::resumed; }

private:
    void notify() noexcept {
        state_ = State::notified;
        task->loop()->schedule(this);
    }

    static bool cancel_hook(Suspension* s) noexcept {
        auto* self = static_cast<QueueWaiter*>(s);
        if (self->state_ == State::notified) {
            // Its turn is already queued: that turn resumes the task, which raises and
            // passes the wake-up on.
            self->mark_cancelled();
            return true;
        }
        if (self->linked()) WaitList::unlink(self);  // not linked: its queue is gone
        self->state_ = State::idle;
        return self->cancelled_by_request();
    }

    WaitList* list_;
    State state_ = State::idle;
};

class JoinAwaiter;

/// What every queue has regardless of its item type: waiter lists, the unfinished-task
/// count behind join(), the shutdown flag and the loop the queue is bound to.
class QueueCore {
public:
    QueueCore(const QueueCore&) = delete;
    QueueCore& operator=(const QueueCore&) = delete;

    /// Number of items allowed in the queue; 0 means unbounded.
    [[nodiscard]] std::size_t maxsize() const noexcept { return maxsize_; }

    /// Marks one item fetched by get() as processed (Queue.task_done()). When every item
    /// put has been marked, join() returns.
    /// Throws std::invalid_argument("task_done() called too many times") when called more
    /// times than items were put (ValueError in asyncio).
    void task_done() {
        if (unfinished_ == 0) throw std::invalid_argument("task_done() called too many times");
        if (--unfinished_ == 0) wake_joiners();
    }

    /// Waits until every item put has had task_done() (Queue.join()). Returns at once
    /// when there is no unfinished item.
    /// Cancellation: Cancel-safe: if cancelled, nothing changes in the queue.
    /// Thread-safety: loop-affine.
    [[nodiscard]] JoinAwaiter join() noexcept;

protected:
    explicit QueueCore(std::size_t maxsize) noexcept : maxsize_(maxsize) {}
    ~QueueCore() = default;

    /// asyncio's _LoopBoundMixin: the first wait binds the queue to the running loop.
    void bind_loop() {
        EventLoop* running = tl_running_loop;
        if (loop_ == running) [[likely]]
            return;
        if (!loop_) {
            loop_ = running;
        } else if (running) {
            throw RuntimeError("RuntimeError: Queue is bound to a different event loop");
        }
    }
    /// asyncio's `self._finished.set()`: every join() waiter returns.
    void wake_joiners() noexcept;

    template <class Q>
    friend class GetAwaiter;
    template <class Q>
    friend class PutAwaiter;
    friend class JoinAwaiter;

    WaitList getters_;
    WaitList putters_;
    WaitList joiners_;
    std::size_t maxsize_;
    std::size_t unfinished_ = 0;
    EventLoop* loop_ = nullptr;
    bool shutdown_ = false;
};

/// A task blocked in join(): a plain leaf wait (asyncio's Event.wait on `_finished`;
/// a woken joiner returns even if items were put meanwhile, as with an Event).
class JoinAwaiter : public LeafWait, public WaitLink {
public:
    explicit JoinAwaiter(QueueCore& q) noexcept : q_(&q) {}
    JoinAwaiter(const JoinAwaiter&) = delete;
    JoinAwaiter& operator=(const JoinAwaiter&) = delete;
    ~JoinAwaiter() {
        if (linked()) WaitList::unlink(this);
    }

    [[nodiscard]] bool await_ready() const noexcept { return q_->unfinished_ == 0; }
    bool await_suspend(std::coroutine_handle<> h) {
        q_->bind_loop();
        return park_and(h, &JoinAwaiter::cancel_hook, "Queue.join", [this] { q_->joiners_.push_back(this); });
    }
    void await_resume() {
        if (cancel_pending()) [[unlikely]]
            task->throw_cancelled();
    }

private:
    static bool cancel_hook(Suspension* s) noexcept {
        auto* self = static_cast<JoinAwaiter*>(s);
        if (self->linked()) WaitList::unlink(self);
        return self->cancelled_by_request();
    }

    QueueCore* q_;
};

inline JoinAwaiter QueueCore::join() noexcept { return JoinAwaiter(*this); }

inline void QueueCore::wake_joiners() noexcept {
    while (WaitLink* n = joiners_.pop_front()) static_cast<JoinAwaiter*>(n)->wake();
}

/// A task blocked in get() (or about to take an item without blocking).
template <class Q>
class GetAwaiter : public QueueWaiter {
public:
    explicit GetAwaiter(Q& q) noexcept : QueueWaiter(q.getters_, &GetAwaiter::turn), q_(&q) {}

    /// Fast path: an item is there (or the queue is shut down): no suspension.
    [[nodiscard]] bool await_ready() const noexcept { return can_proceed(); }
    bool await_suspend(std::coroutine_handle<> h) {
        q_->bind_loop();
        return wait_in_line(h, "Queue.get");
    }
    typename Q::value_type await_resume() {
        if (cancel_pending()) [[unlikely]] {
            if (was_woken() && !q_->empty()) wakeup_next(q_->getters_);
            task->throw_cancelled();
        }
        return q_->take();
    }

private:
    [[nodiscard]] bool can_proceed() const noexcept { return !q_->empty() || q_->shutdown_; }
    static void turn(ReadyItem* r) {
        auto* self = static_cast<GetAwaiter*>(r);
        self->on_turn(self->can_proceed());
    }

    Q* q_;
};

/// A task blocked in put() (or about to add its item without blocking); holds the item.
template <class Q>
class PutAwaiter : public QueueWaiter {
public:
    PutAwaiter(Q& q, typename Q::value_type&& item)
        : QueueWaiter(q.putters_, &PutAwaiter::turn), q_(&q), item_(std::move(item)) {}

    /// Fast path: a free slot (or the queue is shut down and put raises): no suspension.
    [[nodiscard]] bool await_ready() const noexcept { return can_proceed(); }
    bool await_suspend(std::coroutine_handle<> h) {
        q_->bind_loop();
        return wait_in_line(h, "Queue.put");
    }
    void await_resume() {
        if (cancel_pending()) [[unlikely]] {
            if (was_woken() && !q_->full()) wakeup_next(q_->putters_);
            task->throw_cancelled();
        }
        q_->add(std::move(item_));
    }

private:
    [[nodiscard]] bool can_proceed() const noexcept { return !q_->full() || q_->shutdown_; }
    static void turn(ReadyItem* r) {
        auto* self = static_cast<PutAwaiter*>(r);
        self->on_turn(self->can_proceed());
    }

    Q* q_;
    typename Q::value_type item_;
};

/// The one implementation behind Queue, PriorityQueue and LifoQueue; `Store` decides the
/// order in which items come out.
template <class T, class Store>
class BasicQueue : public QueueCore {
public:
    using value_type = T;

    /// A queue holding at most `maxsize` items; 0 (the default) means unbounded.
    explicit BasicQueue(std::size_t maxsize = 0) noexcept : QueueCore(maxsize) {}

    /// Number of items in the queue.
    [[nodiscard]] std::size_t qsize() const noexcept { return store_.size(); }
    /// True if the queue holds no item.
    [[nodiscard]] bool empty() const noexcept { return store_.size() == 0; }
    /// True if the queue holds maxsize() items; never true for an unbounded queue.
    [[nodiscard]] bool full() const noexcept { return maxsize_ != 0 && store_.size() >= maxsize_; }

    /// Adds `item`, waiting while the queue is full (Queue.put()). Does not suspend when
    /// there is room. Throws QueueShutDown if the queue is (or, while waiting, gets)
    /// shut down.
    /// Cancellation: Cancel-safe: if cancelled, the item is not added.
    /// Thread-safety: loop-affine.
    [[nodiscard]] PutAwaiter<BasicQueue> put(T item) { return PutAwaiter<BasicQueue>(*this, std::move(item)); }

    /// Removes and returns the next item, waiting while the queue is empty (Queue.get()).
    /// Does not suspend when an item is there. Throws QueueShutDown once a shut-down
    /// queue is empty (at once after shutdown(true), which empties it).
    /// Cancellation: Cancel-safe: if cancelled, no item is consumed.
    /// Thread-safety: loop-affine.
    [[nodiscard]] GetAwaiter<BasicQueue> get() noexcept { return GetAwaiter<BasicQueue>(*this); }

    /// Adds `item` without waiting (Queue.put_nowait()); wakes one blocked getter.
    /// Throws QueueShutDown after shutdown(), QueueFull if the queue is full.
    void put_nowait(T item) { add(std::move(item)); }

    /// Removes and returns the next item without waiting (Queue.get_nowait()); wakes one
    /// blocked putter. Throws QueueEmpty if the queue is empty (QueueShutDown if it is
    /// also shut down).
    T get_nowait() { return take(); }

    /// Shuts the queue down (Queue.shutdown(), 3.13): put()/put_nowait() raise
    /// QueueShutDown from now on, get() raises it once the queue is empty, and every
    /// blocked put() and get() is woken to re-check (and raise). With `immediate`, the
    /// remaining items are dropped and counted as done, which may release join(), and
    /// get() raises at once.
    void shutdown(bool immediate = false) {
        shutdown_ = true;
        if (immediate) {
            const std::size_t dropped = store_.size();
            store_.clear();
            unfinished_ -= std::min(unfinished_, dropped);
            if (unfinished_ == 0) wake_joiners();
        }
        QueueWaiter::wakeup_all(getters_);
        QueueWaiter::wakeup_all(putters_);
    }

private:
    friend class GetAwaiter<BasicQueue>;
    friend class PutAwaiter<BasicQueue>;

    void add(T&& item) {
        if (shutdown_) throw QueueShutDown();
        if (full()) throw QueueFull();
        store_.push(std::move(item));
        ++unfinished_;
        QueueWaiter::wakeup_next(getters_);
    }
    T take() {
        if (empty()) {
            if (shutdown_) throw QueueShutDown();
            throw QueueEmpty();
        }
        T item = store_.pop();
        QueueWaiter::wakeup_next(putters_);
        return item;
    }

    Store store_;
};

}  // namespace detail

/// A FIFO queue for producer and consumer tasks (asyncio.Queue).
///
/// `put(item)` waits while the queue is full (when `maxsize` > 0), `get()` waits while it
/// is empty; both complete without suspending when they can. `put_nowait`/`get_nowait`
/// raise QueueFull/QueueEmpty instead of waiting. `task_done()` and `join()` track the
/// processing of every item put; `shutdown(immediate)` ends the queue (3.13). Waiters are
/// served first come, first served; a waiter that is cancelled loses nothing and takes
/// nothing. Items may be move-only; put() takes its item by value and moves it in.
/// Not copyable or movable. Thread-safety: loop-affine.
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoStore<T>> {
public:
    using detail::BasicQueue<T, detail::FifoStore<T>>::BasicQueue;
};

/// A queue that returns the smallest item first under `Compare` (asyncio.PriorityQueue,
/// heapq order); entries are typically `std::pair{priority, payload}`. Same interface and
/// semantics as Queue otherwise.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::HeapStore<T, Compare>> {
public:
    using detail::BasicQueue<T, detail::HeapStore<T, Compare>>::BasicQueue;
};

/// A queue that returns the most recently added item first (asyncio.LifoQueue). Same
/// interface and semantics as Queue otherwise.
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoStore<T>> {
public:
    using detail::BasicQueue<T, detail::LifoStore<T>>::BasicQueue;
};

}  // namespace aio
