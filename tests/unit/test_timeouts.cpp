#include "aio/timeouts.hpp"

#include <vector>

#include "aio/sleep.hpp"
#include "aio/tasks.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {
aio::Coro<int> value_after(int v, std::chrono::milliseconds d) {
    co_await aio::sleep(d);
    co_return v;
}
}  // namespace

AIO_TEST(Timeout, ReturnsTheBodyResultInTime) {
    int v = co_await aio::timeout(50ms, [] { return value_after(4, 10ms); });
    EXPECT_EQ(v, 4);
    EXPECT_EQ(loop.elapsed(), 10ms);
}

AIO_TEST(Timeout, ExpiryBecomesTimeoutErrorAfterCleanup) {
    bool cleaned = false;
    auto body = [&]() -> aio::Coro<> {
        try {
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
            cleaned = true;
            throw;
        }
    };
    EXPECT_THROW(co_await aio::timeout(20ms, body), aio::TimeoutError);
    EXPECT_TRUE(cleaned);
    EXPECT_EQ(loop.elapsed(), 20ms);
    EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(Timeout, NoDeadlineMeansNone) {
    int v = co_await aio::timeout(std::nullopt, [](aio::Timeout& t) -> aio::Coro<int> {
        EXPECT_FALSE(t.when().has_value());
        EXPECT_FALSE(aio::current_deadline().has_value());
        co_return co_await value_after(1, 1h);
    });
    EXPECT_EQ(v, 1);
}

AIO_TEST(Timeout, RescheduleMovesTheDeadline) {
    auto start = loop.now();
    EXPECT_THROW(co_await aio::timeout(10ms,
                                       [&](aio::Timeout& t) -> aio::Coro<> {
                                           t.reschedule(start + 40ms);
                                           co_await aio::sleep(1h);
                                       }),
                 aio::TimeoutError);
    EXPECT_EQ(loop.elapsed(), 40ms);
    co_await aio::timeout(10ms, [&](aio::Timeout& t) -> aio::Coro<> {
        t.reschedule(std::nullopt);  // remove the deadline
        co_await aio::sleep(30ms);
        EXPECT_FALSE(t.expired());
    });
}

AIO_TEST(Timeout, NestedScopesFireIndependently) {
    // Inner expires first: the inner raises TimeoutError, the outer carries on.
    int v = co_await aio::timeout(100ms, [&]() -> aio::Coro<int> {
        try {
            co_await aio::timeout(10ms, [] { return aio::sleep(1h); });
        } catch (const aio::TimeoutError&) {
        }
        co_return co_await value_after(2, 20ms);
    });
    EXPECT_EQ(v, 2);
    EXPECT_EQ(loop.elapsed(), 30ms);
    // Outer expires first, inner deadline later: the outer's TimeoutError, not the inner's.
    bool inner_saw_timeout = false;
    EXPECT_THROW(co_await aio::timeout(10ms,
                                       [&]() -> aio::Coro<> {
                                           try {
                                               co_await aio::timeout(100ms, [] { return aio::sleep(1h); });
                                           } catch (const aio::TimeoutError&) {
                                               inner_saw_timeout = true;
                                           }
                                       }),
                 aio::TimeoutError);
    EXPECT_FALSE(inner_saw_timeout);
}

AIO_TEST(Timeout, ExternalCancelStaysCancelledError) {
    auto t = aio::create_task([]() -> aio::Coro<> { co_await aio::timeout(1h, [] { return aio::sleep(2h); }); });
    co_await aio::sleep(5ms);
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_TRUE(t.cancelled());
}

AIO_TEST(Timeout, ExternalCancelAtTheSameTimeAsExpiryStaysCancelled) {
    auto t = aio::create_task([]() -> aio::Coro<> { co_await aio::timeout(10ms, [] { return aio::sleep(1h); }); });
    auto canceller = aio::create_task([t]() mutable -> aio::Coro<> {
        co_await aio::sleep(10ms);
        t.cancel();  // same instant as the deadline: two requests, one is not ours
    });
    EXPECT_THROW(co_await t, aio::CancelledError);
    co_await canceller;
}

AIO_TEST(Timeout, CurrentDeadlineIsTheInnermostEffectiveOne) {
    auto start = loop.now();
    co_await aio::timeout(50ms, [&]() -> aio::Coro<> {
        EXPECT_EQ(aio::current_deadline(), start + 50ms);
        co_await aio::timeout(200ms, [&]() -> aio::Coro<> {
            EXPECT_EQ(aio::current_deadline(), start + 50ms);  // outer is earlier
            co_return;
        });
        co_await aio::timeout(10ms, [&]() -> aio::Coro<> {
            EXPECT_EQ(aio::current_deadline(), start + 10ms);
            // A deadline does not cross create_task.
            auto child = aio::create_task([]() -> aio::Coro<bool> { co_return aio::current_deadline().has_value(); });
            EXPECT_FALSE(co_await child);
        });
    });
    EXPECT_FALSE(aio::current_deadline().has_value());
}

AIO_TEST(WaitFor, TimeoutCancelsTheInnerAndItsCleanupRunsFirst) {
    std::vector<std::string> events;
    auto slow = [&]() -> aio::Coro<int> {
        try {
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
            events.push_back("cleanup");
            throw;
        }
        co_return 1;
    };
    try {
        co_await aio::wait_for(slow(), 15ms);
    } catch (const aio::TimeoutError&) {
        events.push_back("timeout");
    }
    EXPECT_EQ(events, (std::vector<std::string>{"cleanup", "timeout"}));
    EXPECT_EQ(loop.elapsed(), 15ms);
}

AIO_TEST(WaitFor, TaskIsCancelledOnTimeout) {
    auto t = aio::create_task(value_after(1, 1h));
    EXPECT_THROW(co_await aio::wait_for(t, 5ms), aio::TimeoutError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(co_await aio::wait_for(value_after(3, 1ms), 5ms), 3);
}

AIO_TEST(Timeout, MisuseOfRescheduleIsAnError) {
    aio::Timeout unentered(std::nullopt);
    EXPECT_THROW(unentered.reschedule(std::nullopt), aio::RuntimeError);
    co_return;
}
