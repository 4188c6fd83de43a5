// asyncio tutorial: "asyncio.as_completed" — handle each result as soon as it is ready,
// in completion order rather than submission order.
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

aio::Coro<std::string> fetch(std::string url, std::chrono::milliseconds delay) {
    co_await aio::sleep(delay);
    co_return url + " (" + std::to_string(delay.count()) + " ms)";
}

aio::Coro<int> amain() {
    std::vector<aio::Task<std::string>> tasks;
    tasks.push_back(aio::create_task(fetch("/slow", 60ms)));
    tasks.push_back(aio::create_task(fetch("/fast", 10ms)));
    tasks.push_back(aio::create_task(fetch("/medium", 30ms)));

    // for coro in asyncio.as_completed(tasks): result = await coro
    std::vector<std::string> order;
    auto it = aio::as_completed(tasks);
    while (auto task = co_await it.next()) {
        std::string result = co_await *task;
        fmt::print("got {}\n", result);
        order.push_back(result);
    }

    const bool ok = order.size() == 3 && order[0].starts_with("/fast") && order[1].starts_with("/medium") &&
                    order[2].starts_with("/slow");
    co_return ok ? 0 : 1;
}

int main() { return aio::run(amain()); }
