#include "aio/loop.hpp"

#include "aio/detail/task_base.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <fmt/core.h>

#include "aio/detail/io.hpp"
#include "aio/exceptions.hpp"
#include "runtime/epoll.hpp"
#include "runtime/loop_impl.hpp"

namespace aio {

namespace detail {

namespace {
// Write ends of the signal pipes, per signal: the async-signal-safe handler only writes
// the signal number there; the owning loop reads it and runs the handler as a callback.
std::atomic<int> g_signal_fd[NSIG];
// Set by the handler so a busy loop notices a signal without polling the pipe.
std::atomic<bool> g_signal_arrived[NSIG];

void on_signal(int sig) {
    int saved = errno;
    int fd = g_signal_fd[sig].load(std::memory_order_relaxed);
    if (fd >= 0) {
        g_signal_arrived[sig].store(true, std::memory_order_relaxed);
        auto byte = static_cast<unsigned char>(sig);
        [[maybe_unused]] auto r = ::write(fd, &byte, 1);
    }
    errno = saved;
}

struct SignalFdsInit {
    SignalFdsInit() {
        for (auto& fd : g_signal_fd) fd.store(-1, std::memory_order_relaxed);
    }
} g_signal_fds_init;
}  // namespace

void WakeSource::on_events(std::uint32_t) {
    std::uint64_t v;
    while (::read(fd, &v, sizeof v) > 0) {
    }
}

void SignalSource::on_events(std::uint32_t) {
    unsigned char buf[64];
    ssize_t n;
    while ((n = ::read(read_fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; ++i) {
            auto it = impl->signal_handlers.find(buf[i]);
            if (it != impl->signal_handlers.end()) {
                auto handler = it->second;  // the handler may remove itself
                impl->loop->call_soon([handler] { handler(); });
            }
        }
    }
}

void FdWatch::on_events(std::uint32_t events) {
    // Level-triggered: copy the callbacks first, a callback may remove its own watch.
    int fd_copy = fd;
    LoopImpl* owner = impl;
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && reader) {
        auto r = reader;
        owner->loop->call_soon([r] { r(); });
    }
    auto it = owner->watches.find(fd_copy);
    if (it == owner->watches.end()) return;
    if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && it->second->writer) {
        auto w = it->second->writer;
        owner->loop->call_soon([w] { w(); });
    }
}

LoopImpl::LoopImpl(EventLoop* l) : loop(l) {
    wake.fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake.fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    poller.add(wake.fd, EPOLLIN, &wake);
}

LoopImpl::~LoopImpl() {
    for (auto& [sig, handler] : signal_handlers) {
        g_signal_fd[sig].store(-1, std::memory_order_relaxed);
        ::signal(sig, SIG_DFL);
    }
    if (signals.read_fd >= 0) {
        ::close(signals.read_fd);
        ::close(signals.write_fd);
    }
    for (auto& [fd, w] : watches) poller.remove(fd);
    ::close(wake.fd);
}

void LoopImpl::update_watch(int fd) {
    auto it = watches.find(fd);
    FdWatch& w = *it->second;
    std::uint32_t events = (w.reader ? EPOLLIN : 0u) | (w.writer ? EPOLLOUT : 0u);
    if (events == 0) {
        poller.remove(fd);
        watches.erase(it);
    } else if (w.registered) {
        poller.modify(fd, events, &w);
    } else {
        poller.add(fd, events, &w);
        w.registered = true;
    }
}

void LoopImpl::drain_remote() {
    std::vector<std::function<void()>> batch;
    {
        std::lock_guard lock(remote_mutex);
        batch.swap(remote);
        remote_pending.store(false, std::memory_order_relaxed);
    }
    for (auto& f : batch) loop->call_soon(std::move(f));
}

// ---- CallbackBase ----

CallbackBase::CallbackBase(EventLoop* loop) noexcept : loop_(loop) {
    run = &CallbackBase::run_ready;
    fire = &CallbackBase::fire_timer;
}

void CallbackBase::cancel() noexcept {
    if (cancelled_) return;
    cancelled_ = true;
    if (queued()) {  // still in the timer heap: it will never reach the ready queue
        loop_->cancel_timer(this);
        release();
    }
}

void CallbackBase::run_ready(ReadyItem* item) {
    auto* cb = static_cast<CallbackBase*>(item);
    if (!cb->cancelled_) {
        EventLoop* loop = cb->loop_;
        const bool timed = loop->get_debug();
        const Clock::time_point start = timed ? Clock::now() : Clock::time_point{};
        try {
            cb->invoke();
        } catch (...) {
            loop->call_exception_handler({"Exception in callback", std::current_exception(), {}, {}});
        }
        if (timed) {
            auto took = Clock::now() - start;
            if (took > loop->slow_callback_duration)
                loop->call_exception_handler(
                    {fmt::format("Executing a callback took {:.3f} seconds",
                                 std::chrono::duration<double>(took).count()),
                     nullptr, {}, {}});
        }
    }
    cb->release();
}

void CallbackBase::fire_timer(TimerNode* node) {
    auto* cb = static_cast<CallbackBase*>(node);
    cb->loop_->schedule(cb);  // the loop's reference moves to the ready queue
}

bool debug_from_env() noexcept {
    static const bool on = [] {
        const char* v = std::getenv("AIOCPP_DEBUG");
        return v && *v && std::string_view(v) != "0";
    }();
    return on;
}

namespace {
struct DebugFromEnv {
    DebugFromEnv() {
        if (debug_from_env()) g_debug_checks.store(true, std::memory_order_relaxed);
    }
} g_debug_from_env;
}  // namespace

void check_handle_thread(const EventLoop* loop, const char* what, bool fatal) {
    if (!loop || std::this_thread::get_id() == loop->thread_id()) return;
    const std::string message = fmt::format(
        "RuntimeError: {} used on a thread other than its event loop's: handles are loop-affine "
        "(their reference count is not atomic); pass data across threads with call_soon_threadsafe",
        what);
    if (!fatal) throw RuntimeError(message);
    std::fprintf(stderr, "aiocpp: fatal: %s\n", message.c_str());
    std::abort();
}

}  // namespace detail

// ---- EventLoop ----

EventLoop::EventLoop(bool virtual_time)
    : virtual_time_(virtual_time),
      virtual_now_(Clock::now()),
      thread_id_(std::this_thread::get_id()),
      impl_(std::make_unique<detail::LoopImpl>(this)) {
    if (detail::debug_from_env()) set_debug(true);
}

EventLoop::~EventLoop() {
    if (!closed_) close();
}

void EventLoop::set_debug(bool enabled) noexcept {
    debug_ = enabled;
    if (enabled) detail::g_debug_checks.store(true, std::memory_order_relaxed);
}

void EventLoop::check_thread(const char* what) const {
    if (std::this_thread::get_id() != thread_id_)
        throw RuntimeError(fmt::format(
            "RuntimeError: Non-thread-safe operation {}() invoked on an event loop other than the current one",
            what));
}

void EventLoop::call_soon_threadsafe(std::function<void()> f) {
    detail::LoopImpl& im = *impl_;
    bool was_empty;
    {
        std::lock_guard lock(im.remote_mutex);
        if (closed_) throw RuntimeError("RuntimeError: Event loop is closed");
        was_empty = im.remote.empty();
        im.remote.push_back(std::move(f));
        im.remote_pending.store(true, std::memory_order_relaxed);
    }
    // Only the first item needs a wake-up: the loop drains the whole queue at once.
    if (was_empty) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(im.wake.fd, &one, sizeof one);
    }
}

int EventLoop::idle_timeout_ms() const {
    if (timers_.empty()) return -1;
    auto wait = timers_.top()->when - Clock::now();
    if (wait <= Clock::duration::zero()) return 0;
    // Round up so we never wake just before the deadline and spin.
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
}

void EventLoop::poll(int timeout_ms) {
    if (stall_tick_ && timeout_ms != 0) stall_tick_->store(kLoopIdle, std::memory_order_relaxed);
    impl_->poller.wait(timeout_ms);
    if (impl_->remote_pending.load(std::memory_order_relaxed)) impl_->drain_remote();
}

void EventLoop::fire_due_timers() {
    if (timers_.empty()) return;
    const Clock::time_point now = time();
    while (detail::TimerNode* node = timers_.pop_due(now)) node->fire(node);
}

void EventLoop::run_once(bool may_block) {
    // Cadence (DESIGN §3): I/O and timers are checked when nothing is ready, or every
    // 61 steps while work is ready — never per step, so a busy loop makes no syscalls.
    if (ready_.empty()) {
        if (virtual_time_) {
            poll(0);
            if (ready_.empty() && may_block) {
                if (!timers_.empty() && external_ == 0) {
                    // Idle: jump to the next deadline instead of sleeping.
                    if (timers_.top()->when > virtual_now_) virtual_now_ = timers_.top()->when;
                } else if (timers_.empty() && external_ == 0 && impl_->watches.empty() && io_head_ == nullptr &&
                           impl_->signal_handlers.empty()) {
                    throw RuntimeError(
                        "RuntimeError: deadlock: the virtual-time loop is idle with no timer, executor job, "
                        "fd or signal that could wake it");
                } else {
                    poll(-1);  // only executor threads, fds or signals can wake us now
                }
            }
        } else {
            poll(may_block ? idle_timeout_ms() : 0);
        }
        fire_due_timers();
        steps_since_poll_ = 0;
    } else if (steps_since_poll_ >= 61) {
        // When only the wake-up eventfd and the signal pipe are registered, their flags
        // say all that epoll would: skip the syscall unless one is set.
        const std::size_t flagged_fds = impl_->signals.read_fd >= 0 ? 2 : 1;
        bool signalled = false;
        for (const auto& entry : impl_->signal_handlers) {
            signalled |= detail::g_signal_arrived[entry.first].exchange(false, std::memory_order_relaxed);
        }
        if (signalled || impl_->poller.registered() > flagged_fds) {
            poll(0);
        } else if (impl_->remote_pending.load(std::memory_order_relaxed)) {
            impl_->drain_remote();
        }
        fire_due_timers();
        steps_since_poll_ = 0;
    }
    run_batch();
    if (flush_head_) detail::run_deferred_flushes(*this);
}

void EventLoop::run_batch() {
    // asyncio runs the callbacks that were ready when the iteration began; work they
    // schedule waits for the next iteration (so stop() and sleep(0) behave the same).
    std::size_t n = ready_.size();
    if (n > 61) n = 61;
    for (std::size_t i = 0; i < n; ++i) {
        bool is_task = false;
        detail::ReadyLink* link = ready_.pop(is_task);
        if (stall_tick_) stall_tick_->store(++steps_, std::memory_order_relaxed);
        if (is_task) {
            detail::TaskBase::run_step(link);
        } else {
            auto* item = static_cast<detail::ReadyItem*>(link);
            item->run(item);
        }
    }
    steps_since_poll_ += static_cast<std::uint32_t>(n);
}

void EventLoop::run_forever() {
    if (closed_) throw RuntimeError("RuntimeError: Event loop is closed");
    if (running_) throw RuntimeError("RuntimeError: This event loop is already running");
    if (detail::tl_running_loop)
        throw RuntimeError("RuntimeError: Cannot run the event loop while another loop is running");
    thread_id_ = std::this_thread::get_id();
    detail::tl_running_loop = this;
    running_ = true;
    stopping_ = false;
    struct Restore {
        EventLoop* self;
        ~Restore() {
            self->running_ = false;
            self->stopping_ = false;
            detail::tl_running_loop = nullptr;
        }
    } restore{this};
    while (!stopping_) run_once();
}

void EventLoop::close() {
    if (running_) throw RuntimeError("RuntimeError: Cannot close a running event loop");
    if (closed_) return;
    detail::run_deferred_flushes(*this);  // writes of a batch an exception cut short
    discard_ready();
    // Abandoning tasks destroys their frames; destructors there (a lock guard releasing,
    // a waiter leaving) may schedule other tasks, which close_pending_tasks keeps alive
    // until it has discarded the ready queue again.
    detail::close_pending_tasks(*this);
    // Services last: the abandoned frames above may have deregistered from them.
    while (!impl_->services.empty()) impl_->services.pop_back();
    // Sockets still open outlive the loop safely: they forget it (and their fds stay
    // theirs to close). Debug mode lists them, like asyncio's unclosed-transport warnings.
    while (detail::IoRegistration* r = io_head_) {
        if (debug_) call_exception_handler({"Socket still open at loop close: " + r->describe(), nullptr, {}, {}});
        r->close();
    }
    // Generators that outlive the loop forget it.
    while (detail::AsyncGenHook* h = agens_head_) h->unlink_gen();
    // Destroyed frames removed their own timers; what is left belongs to callbacks.
    std::vector<detail::TimerNode*> left;
    timers_.for_each([&](detail::TimerNode* n) { left.push_back(n); });
    for (detail::TimerNode* n : left) {
        timers_.erase(n);
        if (n->fire != &detail::CallbackBase::fire_timer) continue;
        auto* cb = static_cast<detail::CallbackBase*>(n);
        if (debug_ && !cb->cancelled()) {
            // Debug mode lists what would never run, like asyncio's leftover-handle warnings.
            call_exception_handler({fmt::format("Timer handle still scheduled at loop close (due in {} ms)",
                                                std::chrono::duration_cast<std::chrono::milliseconds>(n->when - time()).count()),
                                    nullptr, {}, cb->describe()});
        }
        cb->release();
    }
    {
        std::lock_guard lock(impl_->remote_mutex);
        closed_ = true;
        impl_->remote.clear();
    }
}

EventLoop::Service* EventLoop::find_service(const void* key) const noexcept {
    for (const auto& [k, s] : impl_->services) {
        if (k == key) return s.get();
    }
    return nullptr;
}

void EventLoop::add_service(const void* key, std::unique_ptr<Service> service) {
    if (closed_) throw RuntimeError("RuntimeError: Event loop is closed");
    impl_->services.emplace_back(key, std::move(service));
}

void EventLoop::discard_ready() noexcept {
    while (!ready_.empty()) {
        bool is_task = false;
        detail::ReadyLink* link = ready_.pop(is_task);
        if (is_task) continue;
        auto* item = static_cast<detail::ReadyItem*>(link);
        if (item->run == &detail::CallbackBase::run_ready) static_cast<detail::CallbackBase*>(item)->release();
    }
}

void EventLoop::set_exception_handler(ExceptionHandler handler) { impl_->exception_handler = std::move(handler); }

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
    if (impl_->exception_handler) {
        try {
            impl_->exception_handler(*this, context);
            return;
        } catch (...) {
            default_exception_handler({"Unhandled error in exception handler", std::current_exception(), {}, {}});
        }
    }
    default_exception_handler(context);
}

void EventLoop::default_exception_handler(const ExceptionContext& c) noexcept {
    try {
        std::string text = c.message;
        if (!c.task.empty()) text += fmt::format("\n  task: {}", c.task);
        if (!c.where.empty()) text += fmt::format("\n  coroutine: {}", c.where);
        if (c.exception) text += fmt::format("\n  exception: {}", describe(c.exception));
        std::fprintf(stderr, "aiocpp: %s\n", text.c_str());
    } catch (...) {
        std::fputs("aiocpp: exception handler failed\n", stderr);
    }
}

void EventLoop::add_reader(int fd, std::function<void()> f) {
    auto& slot = impl_->watches[fd];
    if (!slot) slot = std::make_unique<detail::FdWatch>(impl_.get(), fd);
    slot->reader = std::move(f);
    impl_->update_watch(fd);
}

bool EventLoop::remove_reader(int fd) {
    auto it = impl_->watches.find(fd);
    if (it == impl_->watches.end() || !it->second->reader) return false;
    it->second->reader = nullptr;
    impl_->update_watch(fd);
    return true;
}

void EventLoop::add_writer(int fd, std::function<void()> f) {
    auto& slot = impl_->watches[fd];
    if (!slot) slot = std::make_unique<detail::FdWatch>(impl_.get(), fd);
    slot->writer = std::move(f);
    impl_->update_watch(fd);
}

bool EventLoop::remove_writer(int fd) {
    auto it = impl_->watches.find(fd);
    if (it == impl_->watches.end() || !it->second->writer) return false;
    it->second->writer = nullptr;
    impl_->update_watch(fd);
    return true;
}

void EventLoop::add_signal_handler(int sig, std::function<void()> f) {
    if (sig <= 0 || sig >= NSIG) throw std::invalid_argument(fmt::format("invalid signal number {}", sig));
    if (sig == SIGKILL || sig == SIGSTOP) throw RuntimeError(fmt::format("RuntimeError: signal {} cannot be caught", sig));
    detail::LoopImpl& im = *impl_;
    if (im.signals.read_fd < 0) {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) throw std::system_error(errno, std::generic_category(), "pipe2");
        im.signals.read_fd = fds[0];
        im.signals.write_fd = fds[1];
        im.signals.impl = &im;
        im.poller.add(fds[0], EPOLLIN, &im.signals);
    }
    int owner = detail::g_signal_fd[sig].load();
    if (owner >= 0 && owner != im.signals.write_fd)
        throw RuntimeError(fmt::format("RuntimeError: signal {} is already handled by another event loop", sig));
    im.signal_handlers[sig] = std::move(f);
    detail::g_signal_fd[sig].store(im.signals.write_fd);
    struct sigaction sa {};
    sa.sa_handler = &detail::on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(sig, &sa, nullptr) < 0) throw std::system_error(errno, std::generic_category(), "sigaction");
}

bool EventLoop::remove_signal_handler(int sig) {
    auto it = impl_->signal_handlers.find(sig);
    if (it == impl_->signal_handlers.end()) return false;
    impl_->signal_handlers.erase(it);
    detail::g_signal_fd[sig].store(-1);
    ::signal(sig, SIG_DFL);
    return true;
}

EventLoop& get_running_loop() {
    if (!detail::tl_running_loop) throw RuntimeError("RuntimeError: no running event loop");
    return *detail::tl_running_loop;
}

}  // namespace aio
