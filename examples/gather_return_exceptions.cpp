// asyncio tutorial: "gather(..., return_exceptions=True)" — every child runs to the
// end and each result is either a value or the exception it raised (or CancelledError).
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

aio::Coro<int> work(int n, std::chrono::milliseconds delay) {
    co_await aio::sleep(delay);
    if (n == 2) throw std::invalid_argument("bad input " + std::to_string(n));
    co_return n * 10;
}

std::string show(const aio::Outcome<int>& r) {
    if (r.has_value()) return std::to_string(r.value());
    return r.cancelled() ? "CancelledError()" : aio::describe(r.exception());
}

aio::Coro<int> amain() {
    // Without return_exceptions the first error propagates out of gather.
    try {
        co_await aio::gather(work(1, 10ms), work(2, 20ms));
    } catch (const std::invalid_argument& e) {
        fmt::print("gather raised: {}\n", e.what());
    }

    // With it, all children are awaited and their outcomes returned in order.
    std::vector<aio::Task<int>> tasks;
    for (int n = 1; n <= 4; ++n) tasks.push_back(aio::create_task(work(n, 10ms * n)));
    tasks[3].cancel();  // the fourth is cancelled before it finishes
    std::vector<aio::Outcome<int>> results = co_await aio::gather(aio::return_exceptions, tasks);

    fmt::print("results: [");
    for (std::size_t i = 0; i < results.size(); ++i) fmt::print("{}{}", i ? ", " : "", show(results[i]));
    fmt::print("]\n");

    const bool ok = results[0].value() == 10 && !results[1].has_value() && results[2].value() == 30 &&
                    results[3].cancelled();
    co_return ok ? 0 : 1;
}

int main() { return aio::run(amain()); }
