#include <execinfo.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "aio/debug.hpp"
#include "aio/detail/task_base.hpp"
#include "aio/exceptions.hpp"

namespace aio {

namespace {

// Only async-signal-safe work in the handler: write(2) and backtrace_symbols_fd (whose
// first backtrace() call, which may load libgcc, is made ahead of time).
std::atomic<int> g_stall_fd{2};
constexpr int kStallSignal = SIGURG;  // ignored by default, unused by the loop

void write_str(int fd, const char* s) {
    if (s) [[maybe_unused]] auto r = ::write(fd, s, std::strlen(s));
}

void on_stall_signal(int) {
    const int saved = errno;
    const int fd = g_stall_fd.load(std::memory_order_relaxed);
    write_str(fd, "aiocpp: event loop stalled: a step is still running past the watchdog threshold\n");
    if (detail::TaskBase* t = detail::tl_current_task) {
        write_str(fd, "  running coroutine: ");
        write_str(fd, detail::PromiseBase::of(t->root()).where_.function_name());
        write_str(fd, "\n");
    }
    write_str(fd, "  loop thread backtrace:\n");
    void* frames[64];
    int n = ::backtrace(frames, 64);
    ::backtrace_symbols_fd(frames, n, fd);
    errno = saved;
}

}  // namespace

StallWatchdog::StallWatchdog(EventLoop& loop, std::chrono::milliseconds threshold, int fd)
    : loop_(loop), threshold_(threshold) {
    if (loop_.stall_tick_) throw RuntimeError("RuntimeError: this loop already has a StallWatchdog");
    void* warm[1];
    ::backtrace(warm, 1);
    g_stall_fd.store(fd, std::memory_order_relaxed);
    struct sigaction sa {};
    sa.sa_handler = &on_stall_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ::sigaction(kStallSignal, &sa, nullptr);
    loop_.stall_tick_ = &tick_;
    const pthread_t loop_thread = ::pthread_self();
    thread_ = std::thread([this, loop_thread] {
        using namespace std::chrono;
        std::uint64_t last = EventLoop::kLoopIdle;
        auto since = steady_clock::now();
        bool reported = false;
        while (!stop_.load(std::memory_order_relaxed)) {
            std::this_thread::sleep_for(threshold_ / 4);
            const std::uint64_t now_tick = tick_.load(std::memory_order_relaxed);
            const auto now = steady_clock::now();
            if (now_tick != last || now_tick == EventLoop::kLoopIdle) {
                last = now_tick;
                since = now;
                reported = false;
            } else if (!reported && now - since >= threshold_) {
                reported = true;
                stalls_.fetch_add(1, std::memory_order_relaxed);
                ::pthread_kill(loop_thread, kStallSignal);
            }
        }
    });
}

StallWatchdog::~StallWatchdog() {
    stop_.store(true, std::memory_order_relaxed);
    thread_.join();
    loop_.stall_tick_ = nullptr;
    ::signal(kStallSignal, SIG_DFL);
}

}  // namespace aio
