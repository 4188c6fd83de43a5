#include "aio/executor.hpp"

#include <atomic>
#include <future>
#include <thread>

#include "aio/sleep.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

AIO_TEST(Executor, ToThreadRunsOnAnotherThreadAndReturnsTheValue) {
    auto loop_thread = std::this_thread::get_id();
    auto [value, worker_thread] = co_await aio::to_thread([](int x) { return std::pair(x * 2, std::this_thread::get_id()); }, 21);
    EXPECT_EQ(value, 42);
    EXPECT_NE(worker_thread, loop_thread);
}

AIO_TEST(Executor, ExceptionsPropagate) {
    EXPECT_THROW(co_await aio::to_thread([] { throw std::invalid_argument("bad"); }), std::invalid_argument);
}

AIO_TEST(Executor, CancellationIsDeliveredWhenTheFunctionReturns) {
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    std::atomic<bool> finished{false};
    auto t = aio::create_task([&]() -> aio::Coro<> {
        co_await aio::to_thread([&] {
            gate.wait();
            finished = true;
        });
    });
    co_await aio::sleep(0ms);
    t.cancel();
    EXPECT_FALSE(t.done());  // still waiting for the function
    release.set_value();
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_TRUE(finished.load());
}

AIO_TEST(Executor, LoopStaysResponsiveWhileAThreadWorks) {
    std::promise<void> release;
    auto gate = release.get_future().share();
    auto work = aio::create_task([&]() -> aio::Coro<int> {
        // Named first: g++ 12 destroys a by-value-capturing lambda twice when it is built
        // inside the co_await expression (GCC PR 100611; tests/lint checks for it).
        auto blocking_read = [gate] {
            gate.wait();
            return 1;
        };
        co_return co_await aio::to_thread(blocking_read);
    });
    int ticks = 0;
    for (int i = 0; i < 3; ++i) {
        co_await aio::sleep(0ms);
        ++ticks;
    }
    release.set_value();
    EXPECT_EQ(co_await work, 1);
    EXPECT_EQ(ticks, 3);
}

AIO_TEST(Executor, RunInExecutorOnACustomPool) {
    aio::ThreadPoolExecutor pool(2);
    int v = co_await aio::get_running_loop().run_in_executor(&pool, [] { return 7; });
    EXPECT_EQ(v, 7);
    pool.shutdown();
    EXPECT_THROW(pool.submit([] {}), aio::RuntimeError);
}

TEST(ExecutorThreads, RunCoroutineThreadsafeFromAnotherThread) {
    aio::EventLoop loop;
    std::thread loop_thread([&] {
        loop.run_forever();
    });
    auto fut = aio::run_coroutine_threadsafe(
        []() -> aio::Coro<int> {
            co_await aio::sleep(1ms);
            co_return 99;
        }(),
        loop);
    EXPECT_EQ(fut.get(), 99);
    loop.call_soon_threadsafe([&] { loop.stop(); });
    loop_thread.join();
    loop.shutdown_default_executor();
    loop.close();
}
