// Readiness of a socket or pipe on the loop's epoll: the one door between the core and
// the networking layer (not user API).
//
// An fd is registered once, edge-triggered (EPOLLIN|EPOLLOUT|EPOLLRDHUP), and its
// readiness is cached here (DESIGN §3): an epoll event sets a direction ready, the owner
// clears it when a syscall says EAGAIN (or reads less than it asked for). So the hot path
// of a busy stream makes no epoll_ctl and no epoll_wait, only its recv/send.
//
// Write coalescing: a stream asks for `defer_flush()` instead of sending a small write at
// once; the loop calls `on_flush()` after the batch of steps it is running, so what a
// batch wrote leaves in one burst of sends. The peer is then woken once per burst instead
// of once per message (on a busy client this was a fifth of the CPU per request).
//
// Fairness (Tokio's coop budget): every wait that finds its direction already ready spends
// one unit of the running task's budget (EventLoop::kIoBudget); a task that has spent it yields once
// (goes to the back of the ready queue), so one hot connection cannot starve the loop.
#pragma once

#include <coroutine>
#include <cstdint>
#include <string>

#include "aio/detail/task_base.hpp"
#include "aio/loop.hpp"

namespace aio::detail {

/// Something registered with epoll; `data.ptr` points at it.
struct IoSource {
    virtual void on_events(std::uint32_t events) = 0;

protected:
    ~IoSource() = default;
};

class IoReadyAwaiter;

/// One fd's registration and cached readiness. The owner keeps the fd open while
/// registered and calls `close()` (or destroys this) before closing the fd.
class IoRegistration : public IoSource {
public:
    enum Dir : std::uint8_t { kRead = 0, kWrite = 1 };

    IoRegistration() noexcept = default;
    IoRegistration(const IoRegistration&) = delete;
    IoRegistration& operator=(const IoRegistration&) = delete;
    virtual ~IoRegistration() { close(); }

    /// Registers `fd` with `loop`; `ready_*` seed the cache (an accepted socket is usually
    /// writable; trying first costs at most one EAGAIN).
    void open(EventLoop& loop, int fd, bool ready_read = false, bool ready_write = false);
    /// Deregisters and wakes both waiters, which then see `closed()`. The loop also calls
    /// it at loop close, so an owner that outlives the loop never touches it again.
    void close() noexcept;

    [[nodiscard]] bool registered() const noexcept { return loop_ != nullptr; }
    [[nodiscard]] bool closed() const noexcept { return closed_; }
    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] EventLoop* loop() const noexcept { return loop_; }
    [[nodiscard]] bool ready(Dir d) const noexcept { return ready_[d]; }
    /// The last syscall in direction `d` found nothing to do (EAGAIN / short read).
    /// Reading stays ready once the peer hung up: end of stream raises no further edge.
    void clear(Dir d) noexcept {
        if (d == kRead && hup_) return;
        ready_[d] = false;
    }
    /// EPOLLRDHUP/EPOLLHUP was seen: the peer will send nothing more.
    [[nodiscard]] bool peer_hung_up() const noexcept { return hup_; }

    /// Waits until direction `d` is ready (or the registration is closed).
    /// Cancellation: Cancel-safe: nothing is consumed by the wait itself.
    [[nodiscard]] IoReadyAwaiter wait(Dir d, const char* what) noexcept;
    /// A task already waits in direction `d` (asyncio refuses two concurrent readers).
    [[nodiscard]] bool has_waiter(Dir d) const noexcept { return waiter_[d] != nullptr; }

    /// Asks for `on_flush()` once the loop's running batch of steps is over (the loop's
    /// flush list, in request order). Repeated requests before then are one.
    void defer_flush() noexcept;
    [[nodiscard]] bool flush_deferred() const noexcept { return flush_queued_; }

    void on_events(std::uint32_t events) override;
    /// What this is, for the debug report of registrations still open at loop close.
    [[nodiscard]] virtual std::string describe() const { return "fd " + std::to_string(fd_); }
    [[nodiscard]] IoRegistration* next_registration() const noexcept { return next_; }

protected:
    /// Called from the poller when the fd became writable (the stream writer flushes its
    /// buffer here, without a task, as asyncio's transports do).
    virtual void on_writable() {}
    /// Called after the batch in which `defer_flush()` was asked (not after close()).
    virtual void on_flush() noexcept {}

private:
    friend class IoReadyAwaiter;
    friend void run_deferred_flushes(EventLoop& loop) noexcept;
    EventLoop* loop_ = nullptr;
    int fd_ = -1;
    bool ready_[2] = {false, false};
    bool hup_ = false;
    bool closed_ = false;
    IoReadyAwaiter* waiter_[2] = {nullptr, nullptr};
    IoRegistration* prev_ = nullptr;  // the loop's list of registrations
    IoRegistration* next_ = nullptr;
    bool flush_queued_ = false;
    IoRegistration* flush_prev_ = nullptr;  // the loop's flush list
    IoRegistration* flush_next_ = nullptr;
};

/// Calls `on_flush()` of every registration that asked since the last call (EventLoop).
void run_deferred_flushes(EventLoop& loop) noexcept;

class IoReadyAwaiter : public LeafWait {
public:
    IoReadyAwaiter(IoRegistration* reg, IoRegistration::Dir dir, const char* label) noexcept
        : reg_(reg), dir_(dir), what_(label) {}
    IoReadyAwaiter(const IoReadyAwaiter&) = delete;
    IoReadyAwaiter& operator=(const IoReadyAwaiter&) = delete;
    ~IoReadyAwaiter() {
        // Only a frame destroyed while parked (loop close) is still linked; otherwise the
        // registration may already be gone and must not be touched.
        if (linked_) reg_->waiter_[dir_] = nullptr;
    }

    bool await_ready() const noexcept {
        if (reg_->closed_) return true;
        if (!reg_->ready_[dir_]) return false;
        EventLoop* loop = reg_->loop_;
        return --loop->io_budget_ > 0;
    }
    bool await_suspend(std::coroutine_handle<> h) {
        if (reg_->ready_[dir_]) {
            // Ready, but the budget is spent: yield once; the next step has a fresh budget.
            task = &running_task(what_);
            if (task->must_cancel()) return false;
            task->park_ready(h);
            return true;
        }
        if (reg_->waiter_[dir_]) [[unlikely]]
            throw RuntimeError(std::string("RuntimeError: ") + what_ +
                               " called while another task is already waiting on the same stream");
        if (!park(h, &IoReadyAwaiter::cancel_hook, what_)) return false;
        reg_->waiter_[dir_] = this;
        linked_ = true;
        return true;
    }
    void await_resume() {
        if (cancel_pending()) task->throw_cancelled();
    }

private:
    friend class IoRegistration;
    static bool cancel_hook(Suspension* s) noexcept {
        auto* self = static_cast<IoReadyAwaiter*>(s);
        self->reg_->waiter_[self->dir_] = nullptr;
        self->linked_ = false;
        return self->cancelled_by_request();
    }
    /// The direction is ready or the registration closed.
    void fire() noexcept {
        linked_ = false;
        wake();
    }

    IoRegistration* reg_;
    bool linked_ = false;
    IoRegistration::Dir dir_;
    const char* what_;
};

inline IoReadyAwaiter IoRegistration::wait(Dir d, const char* what) noexcept { return {this, d, what}; }

}  // namespace aio::detail
