// asyncio tutorial: "limiting concurrency with asyncio.Semaphore" — 10 calls are
// started at once but at most 3 are in flight (`async with sem:`).
#include <aio/aio.hpp>
#include <aio/locks.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <vector>

using namespace std::chrono_literals;

int in_flight = 0;
int max_in_flight = 0;

aio::Coro<int> call_api(int i, aio::Semaphore& sem) {
    auto held = co_await sem.scoped();  // async with sem:
    ++in_flight;
    max_in_flight = std::max(max_in_flight, in_flight);
    fmt::print("call {:>2} starts ({} in flight)\n", i, in_flight);
    co_await aio::sleep(20ms);
    --in_flight;
    co_return i * 100;
}  // `held` releases the permit here

aio::Coro<int> amain() {
    aio::Semaphore sem(3);
    std::vector<aio::Coro<int>> calls;
    for (int i = 1; i <= 10; ++i) calls.push_back(call_api(i, sem));
    std::vector<int> results = co_await aio::gather(std::move(calls));

    fmt::print("{} calls done, results {} ... {}\n", results.size(), results.front(), results.back());
    fmt::print("max concurrency = {}\n", max_in_flight);
    co_return max_in_flight == 3 ? 0 : 1;
}

int main() { return aio::run(amain()); }
