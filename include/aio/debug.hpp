// Introspection for a running loop: the task tree with each task's async call chain
// (asyncio's graph.py / `python -m asyncio pstree`).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "aio/loop.hpp"

namespace aio {

/// Text listing every pending task of the running loop as a tree (a task under the task
/// that awaits it), with what each one awaits and its async call chain.
[[nodiscard]] std::string format_tasks();

/// Writes format_tasks() to `out`.
void dump_tasks(std::FILE* out = stderr);

/// Prints the loop thread's stack while a single step has been blocking the loop for
/// longer than `threshold` (Seastar's reactor stall detector): the message names the
/// coroutine that is running, then the native backtrace (function names need the
/// program linked with -rdynamic). Cheap enough for production: the loop only stores a
/// counter per step, and a thread wakes every threshold/2. One report per stall.
/// Create it on the loop's thread; at most one per loop.
/// Thread-safety: construct and destroy on the loop's thread.
class StallWatchdog {
public:
    explicit StallWatchdog(EventLoop& loop, std::chrono::milliseconds threshold = std::chrono::milliseconds(500),
                           int fd = 2);
    ~StallWatchdog();
    StallWatchdog(const StallWatchdog&) = delete;
    StallWatchdog& operator=(const StallWatchdog&) = delete;
    /// Stalls reported so far.
    [[nodiscard]] std::uint64_t stalls() const noexcept { return stalls_.load(std::memory_order_relaxed); }

private:
    void watch();

    EventLoop& loop_;
    std::chrono::milliseconds threshold_;
    std::atomic<std::uint64_t> tick_{EventLoop::kLoopIdle};
    std::atomic<std::uint64_t> stalls_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace aio
