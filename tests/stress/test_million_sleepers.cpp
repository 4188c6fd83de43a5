// 1,000,000 concurrent sleeping tasks complete with correct results (virtual clock).
#include <vector>

#include "aio/aio.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {
aio::Coro<long> sleeper(long i) {
    co_await aio::sleep(std::chrono::milliseconds(1 + i % 1000));
    co_return i;
}
}  // namespace

AIO_TEST(Stress, MillionSleepingTasks) {
    constexpr long n = 1'000'000;
    std::vector<aio::Task<long>> tasks;
    tasks.reserve(n);
    for (long i = 0; i < n; ++i) tasks.push_back(aio::create_task(sleeper(i)));
    co_await aio::sleep(0ms);
    EXPECT_EQ(aio::get_running_loop().timer_count(), static_cast<std::size_t>(n));
    std::vector<long> results = co_await aio::gather(std::move(tasks));
    CO_ASSERT_EQ(results.size(), static_cast<std::size_t>(n));
    long bad = 0;
    for (long i = 0; i < n; ++i) bad += results[static_cast<std::size_t>(i)] != i;
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(loop.elapsed(), 1000ms);
}

AIO_TEST(Stress, ManyTasksPingPongThroughFutures) {
    // 10,000 chains of futures handed from task to task, all concurrently.
    constexpr int n = 10'000;
    std::vector<aio::Task<int>> tasks;
    for (int i = 0; i < n; ++i) {
        tasks.push_back(aio::create_task([](int k) -> aio::Coro<int> {
            int acc = 0;
            for (int step = 0; step < 10; ++step) {
                auto f = aio::get_running_loop().create_future<int>();
                aio::get_running_loop().call_soon([f, step]() mutable { f.set_result(step); });
                acc += co_await f;
            }
            co_return acc + k;
        }, i));
    }
    auto sums = co_await aio::gather(tasks);
    for (int i = 0; i < n; ++i) EXPECT_EQ(sums[static_cast<std::size_t>(i)], 45 + i);
}
