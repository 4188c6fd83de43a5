// EventLoop, Handle and TimerHandle: asyncio's events.py. One loop per thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/frame_alloc.hpp"
#include "aio/detail/ready.hpp"
#include "aio/detail/timers.hpp"

namespace aio {

class EventLoop;
class ThreadPoolExecutor;
template <class T>
class Future;

namespace detail {

/// A scheduled callback (call_soon/call_later). Loop and handles share ownership with a
/// plain count: handles are loop-affine.
class CallbackBase : public ReadyItem, public TimerNode {
public:
    explicit CallbackBase(EventLoop* loop) noexcept;
    virtual ~CallbackBase() = default;
    CallbackBase(const CallbackBase&) = delete;
    CallbackBase& operator=(const CallbackBase&) = delete;
    // A callback is made for every call_soon and every timeout scope: the frame
    // allocator's size classes serve it without malloc (the virtual destructor makes
    // delete pass the derived size).
    static void* operator new(std::size_t n) { return frame_alloc(n); }
    static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }

    virtual void invoke() = 0;
    /// The callable's type, demangled, for reports (a lambda names its enclosing function).
    [[nodiscard]] virtual std::string describe() const = 0;
    void acquire() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) delete this;
    }
    void cancel() noexcept;
    [[nodiscard]] bool cancelled() const noexcept { return cancelled_; }
    [[nodiscard]] EventLoop* loop() const noexcept { return loop_; }

private:
    friend class aio::EventLoop;
    static void run_ready(ReadyItem* item);
    static void fire_timer(TimerNode* node);

    EventLoop* loop_;
    std::uint32_t refs_ = 1;
    bool cancelled_ = false;
};

std::string demangle(const char* mangled);

template <class F>
class Callback final : public CallbackBase {
public:
    Callback(EventLoop* loop, F f) : CallbackBase(loop), f_(std::move(f)) {}
    void invoke() override { f_(); }
    [[nodiscard]] std::string describe() const override { return demangle(typeid(F).name()); }

private:
    F f_;
};

class TaskBase;
class IoRegistration;
struct LoopImpl;  // the loop's cold state (src/loop.cpp)

/// A started async generator, listed on its loop so run() can aclose() the ones still
/// alive at exit (asyncio's shutdown_asyncgens). Lives in the generator's promise.
struct AsyncGenHook {
    AsyncGenHook* prev_gen = nullptr;
    AsyncGenHook* next_gen = nullptr;
    EventLoop* gen_loop = nullptr;
    Coro<> (*aclose_fn)(AsyncGenHook*) = nullptr;
    void link_gen(EventLoop* loop) noexcept;
    void unlink_gen() noexcept;
};

}  // namespace detail

/// A callback scheduled with call_soon (asyncio.Handle). Cheap to copy; loop-affine.
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(detail::CallbackBase* cb) noexcept : cb_(cb) {}  // adopts a reference
    Handle(const Handle& o) noexcept : cb_(o.cb_) {
        if (cb_) cb_->acquire();
    }
    Handle(Handle&& o) noexcept : cb_(std::exchange(o.cb_, nullptr)) {}
    Handle& operator=(Handle o) noexcept {
        std::swap(cb_, o.cb_);
        return *this;
    }
    ~Handle() {
        if (cb_) cb_->release();
    }
    /// Stops the callback from running if it has not run yet.
    void cancel() noexcept {
        if (cb_) cb_->cancel();
    }
    [[nodiscard]] bool cancelled() const noexcept { return cb_ && cb_->cancelled(); }

protected:
    detail::CallbackBase* cb_ = nullptr;
};

/// A callback scheduled with call_later/call_at (asyncio.TimerHandle).
class TimerHandle : public Handle {
public:
    using Handle::Handle;
    /// The absolute time the callback is scheduled for, on the loop's clock.
    [[nodiscard]] Clock::time_point when() const noexcept { return cb_ ? cb_->when : Clock::time_point{}; }
};

/// What the loop's exception handler receives (asyncio's context dict).
struct ExceptionContext {
    std::string message;
    std::exception_ptr exception;
    /// Name of the task involved, if any.
    std::string task;
    /// The coroutine or callback involved, as "function (file:line)", if known.
    std::string where;
};

/// The event loop (asyncio's AbstractEventLoop / BaseEventLoop on epoll).
///
/// One per thread, reached with `get_running_loop()` while it runs. Everything is
/// loop-affine except `call_soon_threadsafe`, which any thread may call.
class EventLoop {
public:
    /// `virtual_time`: the test loop's clock, which stands still and jumps to the next
    /// timer when the loop is idle (asyncio's TestLoop, Tokio's paused clock).
    explicit EventLoop(bool virtual_time = false);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    /// The loop's notion of now (`loop.time()`): steady clock, or virtual time.
    [[nodiscard]] Clock::time_point time() const noexcept { return virtual_time_ ? virtual_now_ : Clock::now(); }

    /// Schedules `f()` to run on a later step, after callbacks already scheduled (FIFO).
    template <class F>
    Handle call_soon(F&& f) {
        if (debug_) check_thread("call_soon");
        auto* cb = new detail::Callback<std::decay_t<F>>(this, std::forward<F>(f));
        cb->acquire();  // one reference for the loop, one for the handle
        schedule(cb);
        return Handle(cb);
    }

    /// Schedules `f()` to run `delay` from now.
    template <class Rep, class Period, class F>
    TimerHandle call_later(std::chrono::duration<Rep, Period> delay, F&& f) {
        return call_at(time() + std::chrono::ceil<Clock::duration>(delay), std::forward<F>(f));
    }

    /// Schedules `f()` at `when` on the loop's clock; equal deadlines run in call order.
    template <class F>
    TimerHandle call_at(Clock::time_point when, F&& f) {
        if (debug_) check_thread("call_at");
        auto* cb = new detail::Callback<std::decay_t<F>>(this, std::forward<F>(f));
        cb->acquire();
        cb->when = when;
        add_timer(cb);
        return TimerHandle(cb);
    }

    /// Schedules `f()` on this loop from any thread and wakes the loop.
    /// Thread-safety: thread-safe (the only loop method that is).
    void call_soon_threadsafe(std::function<void()> f);

    /// Runs until `stop()` is called.
    void run_forever();
    /// Makes `run_forever` return after the callbacks of the current iteration.
    void stop() noexcept { stopping_ = true; }
    [[nodiscard]] bool is_running() const noexcept { return running_; }
    /// Releases the loop's resources; a running loop cannot be closed.
    void close();
    [[nodiscard]] bool is_closed() const noexcept { return closed_; }

    /// Runs `coro` as a task until it finishes and returns its result (task.hpp).
    template <class T>
    T run_until_complete(Coro<T> coro);

    /// A new pending Future bound to this loop (future.hpp).
    template <class T = void>
    [[nodiscard]] Future<T> create_future();

    using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;
    /// Replaces the handler for errors nobody else can receive (never-retrieved task
    /// exceptions, exceptions escaping callbacks); an empty function restores the default.
    void set_exception_handler(ExceptionHandler handler);
    /// Calls the current exception handler (or the default one).
    void call_exception_handler(const ExceptionContext& context) noexcept;
    /// Prints the context to stderr, as asyncio's default handler logs it.
    static void default_exception_handler(const ExceptionContext& context) noexcept;

    /// Runs `fn(args...)` on `executor` (nullptr: the default one) and returns an
    /// awaitable for its result (loop.run_in_executor, executor.hpp).
    template <class F, class... A>
    [[nodiscard]] auto run_in_executor(ThreadPoolExecutor* executor, F&& fn, A&&... args);
    /// Replaces the executor used by run_in_executor(nullptr, …) and to_thread().
    void set_default_executor(std::shared_ptr<ThreadPoolExecutor> executor);
    /// The default executor, created on first use (executor.hpp).
    ThreadPoolExecutor& default_executor();
    /// Waits for the default executor's jobs and joins its threads (run() does this).
    void shutdown_default_executor();

    /// Debug mode: slow steps, wrong-thread calls, never-awaited coroutines, swallowed
    /// cancellations and leftovers at close are reported (docs/debugging.md).
    void set_debug(bool enabled) noexcept;
    [[nodiscard]] bool get_debug() const noexcept { return debug_; }
    /// A step longer than this is reported in debug mode (default 100 ms).
    Clock::duration slow_callback_duration = std::chrono::milliseconds(100);

    /// Calls `f()` whenever `fd` is readable (level-triggered), until remove_reader(fd).
    void add_reader(int fd, std::function<void()> f);
    bool remove_reader(int fd);
    /// Calls `f()` whenever `fd` is writable (level-triggered), until remove_writer(fd).
    void add_writer(int fd, std::function<void()> f);
    bool remove_writer(int fd);

    /// Runs `f()` on the loop when signal `sig` arrives; replaces a previous handler.
    void add_signal_handler(int sig, std::function<void()> f);
    /// Restores the default disposition of `sig`; false if no handler was set.
    bool remove_signal_handler(int sig);

    /// Per-loop state of a library layer (the DNS resolver, connection pools), created on
    /// first use and destroyed by close() after the leftover tasks (so their frames can
    /// still deregister from it). `T` must be default-constructible and derive from
    /// `EventLoop::Service`.
    struct Service {
        virtual ~Service() = default;
    };
    template <class T>
    T& service() {
        static const char key = 0;
        if (Service* s = find_service(&key)) return static_cast<T&>(*s);
        auto owned = std::make_unique<T>();
        T& ref = *owned;
        add_service(&key, std::move(owned));
        return ref;
    }

    // ---- runtime internals used by the library's awaiters (not user API) ----
    void schedule(detail::ReadyItem* item) noexcept { ready_.push(item, 0); }
    /// Queues a task's next step (TaskBase::wake).
    void schedule_step(detail::ReadyLink* task) noexcept { ready_.push(task, detail::ReadyQueue::kTask); }
    /// Loop close: empties the ready queue without running anything (callbacks lose the
    /// loop's reference; tasks are only unqueued).
    void discard_ready() noexcept;
    void add_timer(detail::TimerNode* node) { timers_.push(node); }
    void cancel_timer(detail::TimerNode* node) noexcept {
        if (node->queued()) timers_.erase(node);
    }
    void reschedule_timer(detail::TimerNode* node, Clock::time_point when) { timers_.reschedule(node, when); }
    [[nodiscard]] std::size_t timer_count() const noexcept { return timers_.size(); }
    /// Deadline of the earliest timer (the loop's clock), or max() if none.
    [[nodiscard]] Clock::time_point next_timer() const noexcept {
        return timers_.empty() ? Clock::time_point::max() : timers_.top()->when;
    }
    [[nodiscard]] std::size_t ready_count() const noexcept { return ready_.size(); }
    /// Work running outside the loop (executor jobs) whose completion will wake it; the
    /// virtual clock does not jump while there is any.
    void begin_external() noexcept { ++external_; }
    void end_external() noexcept { --external_; }
    /// One iteration: poll for I/O (blocking only if nothing is ready and `may_block`),
    /// move due timers to the ready queue, run the callbacks that were ready.
    void run_once(bool may_block = true);
    void advance_virtual_time(Clock::duration delta) noexcept { virtual_now_ += delta; }
    [[nodiscard]] bool is_virtual_time() const noexcept { return virtual_time_; }
    [[nodiscard]] std::thread::id thread_id() const noexcept { return thread_id_; }
    /// Debug mode: raises RuntimeError when called from a thread other than the loop's.
    void check_thread(const char* what) const;
    detail::LoopImpl& impl() noexcept { return *impl_; }
    /// Set by a StallWatchdog (debug.hpp): the loop publishes a step counter there, or
    /// kLoopIdle while it waits for I/O. Null (no cost but a branch) when none is attached.
    std::atomic<std::uint64_t>* stall_tick_ = nullptr;
    static constexpr std::uint64_t kLoopIdle = ~std::uint64_t{0};
    /// Every task of this loop that is not yet destroyed (intrusive list, task.cpp).
    detail::TaskBase* tasks_head_ = nullptr;
    /// Started async generators that have not finished (async_generator.hpp).
    detail::AsyncGenHook* agens_head_ = nullptr;
    /// The running task's coop budget of I/O operations (detail/io.hpp); each step starts
    /// with a full one.
    int io_budget_ = kIoBudget;
    static constexpr int kIoBudget = 128;
    /// Sockets and pipes registered edge-triggered (detail/io.hpp): an intrusive list, so
    /// close() can detach (and in debug mode list) those still open.
    detail::IoRegistration* io_head_ = nullptr;
    /// Registrations waiting for their end-of-batch flush (IoRegistration::defer_flush).
    detail::IoRegistration* flush_head_ = nullptr;
    detail::IoRegistration* flush_tail_ = nullptr;

private:
    Service* find_service(const void* key) const noexcept;
    void add_service(const void* key, std::unique_ptr<Service> service);
    void poll(int timeout_ms);
    void fire_due_timers();
    int idle_timeout_ms() const;
    void run_batch();

    detail::ReadyQueue ready_;
    detail::TimerHeap timers_;
    bool virtual_time_;
    bool running_ = false;
    bool stopping_ = false;
    bool closed_ = false;
    bool debug_ = false;
    int external_ = 0;
    std::uint32_t steps_since_poll_ = 0;
    std::uint64_t steps_ = 0;
    Clock::time_point virtual_now_{};
    std::thread::id thread_id_{};
    std::unique_ptr<detail::LoopImpl> impl_;
};

namespace detail {
/// The loop running on this thread, or nullptr.
inline thread_local EventLoop* tl_running_loop = nullptr;

inline void AsyncGenHook::link_gen(EventLoop* loop) noexcept {
    gen_loop = loop;
    prev_gen = nullptr;
    next_gen = loop->agens_head_;
    if (next_gen) next_gen->prev_gen = this;
    loop->agens_head_ = this;
}

inline void AsyncGenHook::unlink_gen() noexcept {
    if (!gen_loop) return;
    if (prev_gen) {
        prev_gen->next_gen = next_gen;
    } else {
        gen_loop->agens_head_ = next_gen;
    }
    if (next_gen) next_gen->prev_gen = prev_gen;
    prev_gen = next_gen = nullptr;
    gen_loop = nullptr;
}
}  // namespace detail

/// The loop running on this thread (asyncio.get_running_loop()).
/// Throws RuntimeError("no running event loop") outside a running loop.
EventLoop& get_running_loop();

}  // namespace aio
