// asyncio tutorial: "Running blocking code — asyncio.to_thread" — blocking I/O and CPU
// work run on worker threads while the loop stays responsive (the ticker keeps ticking).
// In C++ threads run in parallel: CPU-bound work needs no process pool.
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <chrono>
#include <string>
#include <thread>

using namespace std::chrono_literals;

int ticks = 0;

aio::Coro<> ticker() {
    for (;;) {
        co_await aio::sleep(20ms);
        fmt::print("  tick {}\n", ++ticks);
    }
}

std::string blocking_read(std::string path) {
    std::this_thread::sleep_for(100ms);  // a slow disk or a blocking client library
    return "contents of " + path;
}

long count_primes(long limit) {  // pure CPU work
    long count = 0;
    for (long n = 2; n < limit; ++n) {
        bool prime = true;
        for (long d = 2; d * d <= n && prime; ++d) prime = n % d != 0;
        count += prime ? 1 : 0;
    }
    return count;
}

aio::Coro<std::string> read_config() { co_return co_await aio::to_thread(blocking_read, std::string("app.conf")); }
aio::Coro<long> crunch() { co_return co_await aio::to_thread(count_primes, 200'000L); }

aio::Coro<int> amain() {
    aio::Task<> tick_task = aio::create_task(ticker(), "ticker");
    const auto start = std::chrono::steady_clock::now();

    fmt::print("offloading a blocking read and a CPU-bound count to threads:\n");
    auto [text, primes] = co_await aio::gather(read_config(), crunch());
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    const int ticks_meanwhile = ticks;

    fmt::print("read: '{}', primes below 200000: {}, in {} ms\n", text, primes, took.count());
    fmt::print("the loop ticked {} times while the threads worked\n", ticks_meanwhile);

    tick_task.cancel();
    try {
        co_await tick_task;
    } catch (const aio::CancelledError&) {
    }
    co_return (primes == 17984 && ticks_meanwhile >= 3) ? 0 : 1;
}

int main() { return aio::run(amain()); }
