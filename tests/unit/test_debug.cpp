#include "aio/debug.hpp"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "aio/locks.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {
aio::Coro<> blocking_handler() {
    // The classic mistake: a blocking sleep inside a coroutine.
    std::this_thread::sleep_for(20ms);
    co_return;
}
aio::Coro<int> waits_forever() {
    co_await aio::sleep(1h);
    co_return 1;
}
aio::Coro<int> outer_waiter(aio::Task<int> inner) { co_return co_await inner; }
}  // namespace

AIO_TEST(Debug, SlowStepIsReportedWithTaskAndCoroutineName) {
    auto& l = aio::get_running_loop();
    l.set_debug(true);
    l.slow_callback_duration = 5ms;
    auto t = aio::create_task(blocking_handler(), "slow-one");
    co_await t;
    l.set_debug(false);
    // On a loaded machine (sanitizers, parallel tests) another step may pass 5 ms too:
    // look for the report about our task.
    auto reports = loop.take_reports();
    auto it = std::find_if(reports.begin(), reports.end(), [](const aio::ExceptionContext& r) {
        return r.message.find("Executing task slow-one took") != std::string::npos;
    });
    CO_ASSERT_TRUE(it != reports.end());
    EXPECT_NE(it->where.find("blocking_handler"), std::string::npos) << it->where;
}

AIO_TEST(Debug, DumpTasksShowsTheTreeAndCallChains) {
    auto inner = aio::create_task(waits_forever(), "inner");
    auto outer = aio::create_task(outer_waiter(inner), "outer");
    co_await aio::sleep(0ms);
    std::string text = aio::format_tasks();
    EXPECT_NE(text.find("outer [Task]"), std::string::npos) << text;
    EXPECT_NE(text.find("inner [sleep]"), std::string::npos) << text;
    EXPECT_NE(text.find("waits_forever"), std::string::npos) << text;
    EXPECT_LT(text.find("outer"), text.find("inner")) << text;  // inner is shown under outer
    outer.cancel();
    EXPECT_THROW(co_await outer, aio::CancelledError);
    EXPECT_TRUE(inner.cancelled());
}

AIO_TEST(Debug, SwallowedCancellationIsReportedInDebugMode) {
    auto& l = aio::get_running_loop();
    l.set_debug(true);
    auto t = aio::create_task([]() -> aio::Coro<> {
        try {
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
            // swallowed without uncancel()
        }
    }(), "swallower");
    co_await aio::sleep(0ms);
    t.cancel();
    co_await t;
    l.set_debug(false);
    auto reports = loop.take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].message.find("swallowed a cancellation"), std::string::npos);
    EXPECT_EQ(reports[0].task, "swallower");
}

TEST(DebugClose, PendingTasksAtCloseAreReportedAndFreed) {
    std::vector<aio::ExceptionContext> reports;
    {
        aio::EventLoop l(true);
        l.set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& c) { reports.push_back(c); });
        aio::detail::tl_running_loop = &l;
        aio::create_task(waits_forever(), "left-behind");
        aio::detail::tl_running_loop = nullptr;
        l.run_once(false);
        l.close();
    }
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Task was destroyed but it is pending!");
    EXPECT_EQ(reports[0].task, "left-behind");
}

TEST(DebugClose, FrameDestroyedAtCloseMayWakeAnotherPendingTask) {
    // A task holding a lock is destroyed at close; its guard's release wakes a waiter
    // that is itself about to be destroyed. Nothing may touch a freed task.
    std::vector<aio::ExceptionContext> reports;
    {
        aio::EventLoop l(true);
        l.set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& c) { reports.push_back(c); });
        aio::Lock lock;
        aio::detail::tl_running_loop = &l;
        aio::create_task([](aio::Lock& lk) -> aio::Coro<> {
            co_await aio::sleep(std::chrono::milliseconds(0));
            co_await lk.acquire();
            lk.release();
        }(lock), "waiter");
        aio::create_task([](aio::Lock& lk) -> aio::Coro<> {
            auto held = co_await lk.scoped();
            co_await aio::sleep(std::chrono::hours(1));
        }(lock), "holder");
        aio::detail::tl_running_loop = nullptr;
        for (int i = 0; i < 3; ++i) l.run_once(false);
        l.close();
    }
    EXPECT_EQ(reports.size(), 2u);  // both reported as destroyed while pending
}

namespace {
aio::Coro<> crunch_numbers_blocking() {
    std::this_thread::sleep_for(200ms);  // blocks the loop thread
    co_return;
}
}  // namespace

AIO_TEST(StallWatchdog, PrintsTheRunningCoroutineAndBacktraceDuringAStall) {
    int fds[2];
    CO_ASSERT_EQ(::pipe(fds), 0);
    {
        aio::StallWatchdog watchdog(aio::get_running_loop(), 40ms, fds[1]);
        auto& l = aio::get_running_loop();
        const auto saved = l.slow_callback_duration;
        l.slow_callback_duration = std::chrono::hours(1);  // debug mode's report is not under test here
        co_await aio::create_task(crunch_numbers_blocking());
        l.slow_callback_duration = saved;
        EXPECT_EQ(watchdog.stalls(), 1u);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    EXPECT_NE(out.find("event loop stalled"), std::string::npos) << out;
    EXPECT_NE(out.find("crunch_numbers_blocking"), std::string::npos) << out;
    EXPECT_NE(out.find("backtrace"), std::string::npos) << out;
}

TEST(DebugClose, ScheduledTimerHandlesAreListedAtCloseInDebugMode) {
    std::vector<aio::ExceptionContext> reports;
    {
        aio::EventLoop l(true);
        l.set_debug(true);
        l.set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& c) { reports.push_back(c); });
        l.call_later(std::chrono::seconds(5), [] {});
        auto cancelled = l.call_later(std::chrono::seconds(1), [] {});
        cancelled.cancel();  // a cancelled handle is not a leftover
        l.close();
    }
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].message.find("Timer handle still scheduled at loop close (due in 5000 ms)"), std::string::npos)
        << reports[0].message;
    EXPECT_NE(reports[0].where.find("ScheduledTimerHandlesAreListedAtCloseInDebugMode"), std::string::npos)
        << reports[0].where;
}
