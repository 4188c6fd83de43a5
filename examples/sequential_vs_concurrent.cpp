// asyncio tutorial: "Running coroutines sequentially vs concurrently" — N simulated
// fetches awaited one by one take N x the delay; with gather they overlap and take ~1x.
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

aio::Coro<std::string> fetch(int i) {
    co_await aio::sleep(50ms);  // a simulated network call
    co_return "page " + std::to_string(i);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

aio::Coro<int> amain() {
    constexpr int n = 5;

    auto start = std::chrono::steady_clock::now();
    std::vector<std::string> one_by_one;
    for (int i = 0; i < n; ++i) one_by_one.push_back(co_await fetch(i));
    const double sequential = seconds_since(start);
    fmt::print("sequential: {} fetches in {:.2f} s\n", one_by_one.size(), sequential);

    start = std::chrono::steady_clock::now();
    std::vector<aio::Coro<std::string>> coros;
    for (int i = 0; i < n; ++i) coros.push_back(fetch(i));
    std::vector<std::string> together = co_await aio::gather(std::move(coros));
    const double concurrent = seconds_since(start);
    fmt::print("concurrent: {} fetches in {:.2f} s\n", together.size(), concurrent);

    fmt::print("results: {}, ..., {}\n", together.front(), together.back());
    fmt::print("speedup: {:.1f}x\n", sequential / concurrent);
    // Sequential must take about n * 50 ms, concurrent about 50 ms.
    co_return (sequential >= 0.25 && concurrent < 0.2) ? 0 : 1;
}

int main() { return aio::run(amain()); }
