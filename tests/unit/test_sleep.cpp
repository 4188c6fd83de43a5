#include "aio/sleep.hpp"

#include "aio/task.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

AIO_TEST(Sleep, SleepsForTheVirtualDuration) {
    co_await aio::sleep(250ms);
    EXPECT_EQ(loop.elapsed(), 250ms);
    co_await aio::sleep(std::chrono::duration<double>(0.5));
    EXPECT_EQ(loop.elapsed(), 750ms);
}

AIO_TEST(Sleep, CancelledSleepRemovesItsTimer) {
    auto t = aio::create_task([]() -> aio::Coro<> { co_await aio::sleep(1h); });
    co_await aio::sleep(0ms);
    EXPECT_EQ(aio::get_running_loop().timer_count(), 1u);
    t.cancel();
    EXPECT_EQ(aio::get_running_loop().timer_count(), 0u);
    EXPECT_THROW(co_await t, aio::CancelledError);
}

AIO_TEST(Sleep, SleepZeroYieldsExactlyOnce) {
    int other_steps = 0;
    auto t = aio::create_task([&]() -> aio::Coro<> {
        ++other_steps;
        co_return;
    });
    co_await aio::sleep(0ms);
    EXPECT_EQ(other_steps, 1);
    co_await t;
}

TEST(SleepOutside, AwaitingOutsideATaskIsAClearError) {
    auto c = []() -> aio::Coro<> { co_await aio::sleep(1ms); }();
    auto h = c.release();
    EXPECT_THROW(
        {
            h.resume();
            if (h.promise().error_) std::rethrow_exception(h.promise().error_);
        },
        aio::RuntimeError);
    h.destroy();
}

AIO_TEST(Sleep, SleepUntilAnAbsoluteTime) {
    const auto target = loop.now() + 40ms;
    co_await aio::sleep_until(target);
    EXPECT_EQ(loop.now(), target);
    co_await aio::sleep_until(target - 10ms);  // in the past: yields once, no wait
    EXPECT_EQ(loop.now(), target);
}
