#include "aio/future.hpp"

#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

AIO_TEST(Future, AwaitGetsTheResultSetLater) {
    auto f = aio::get_running_loop().create_future<std::string>();
    aio::get_running_loop().call_later(5ms, [f]() mutable { f.set_result("done"); });
    EXPECT_EQ(co_await f, "done");
    EXPECT_EQ(f.result(), "done");
}

AIO_TEST(Future, MisuseGetsAsyncioErrors) {
    auto f = aio::get_running_loop().create_future<int>();
    EXPECT_THROW((void)f.result(), aio::InvalidStateError);
    f.set_result(1);
    EXPECT_THROW(f.set_result(2), aio::InvalidStateError);
    EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))), aio::InvalidStateError);
    EXPECT_FALSE(f.cancel());
    co_return;
}

AIO_TEST(Future, ExceptionIsRaisedByAwait) {
    aio::Future<> f(aio::get_running_loop());
    f.set_exception(std::make_exception_ptr(std::runtime_error("bad")));
    EXPECT_THROW(co_await f, std::runtime_error);
    EXPECT_NE(f.exception(), nullptr);
}

AIO_TEST(Future, CancelWakesTheAwaiterWithCancelledError) {
    auto f = aio::get_running_loop().create_future<int>();
    auto waiter = aio::create_task([f]() -> aio::Coro<int> { co_return co_await f; });
    co_await aio::sleep(1ms);
    EXPECT_TRUE(f.cancel("stop"));
    EXPECT_TRUE(f.cancelled());
    try {
        co_await waiter;
        ADD_FAILURE();
    } catch (const aio::CancelledError& e) {
        EXPECT_EQ(e.message(), "stop");
    }
}

AIO_TEST(Future, CancellingTheAwaitingTaskCancelsTheFuture) {
    auto f = aio::get_running_loop().create_future<int>();
    auto waiter = aio::create_task([f]() -> aio::Coro<int> { co_return co_await f; });
    co_await aio::sleep(1ms);
    waiter.cancel();
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_TRUE(f.cancelled());
}

AIO_TEST(Future, DoneCallbackOnDoneFutureIsScheduledNotCalledInline) {
    auto f = aio::get_running_loop().create_future<int>();
    f.set_result(3);
    int seen = 0;
    f.add_done_callback([&](aio::Future<int>& d) { seen = d.result(); });
    EXPECT_EQ(seen, 0);
    co_await aio::sleep(0ms);
    EXPECT_EQ(seen, 3);
}

AIO_TEST(Future, NeverRetrievedExceptionIsReported) {
    {
        auto f = aio::get_running_loop().create_future<int>();
        f.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
    }
    auto reports = loop.take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Future exception was never retrieved");
}

AIO_TEST(Future, MoveOnlyResults) {
    auto f = aio::get_running_loop().create_future<std::unique_ptr<int>>();
    f.set_result(std::make_unique<int>(9));
    auto p = co_await std::move(f);
    EXPECT_EQ(*p, 9);
}
