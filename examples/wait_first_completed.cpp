// asyncio tutorial: "asyncio.wait(..., return_when=FIRST_COMPLETED)" — take the first
// finished task (e.g. the fastest mirror), then cancel the ones still pending.
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

aio::Coro<std::string> download(std::string mirror, std::chrono::milliseconds delay) {
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        fmt::print("  {}: cancelled\n", mirror);
        throw;
    }
    co_return "data from " + mirror;
}

aio::Coro<int> amain() {
    std::vector<aio::Task<std::string>> tasks;
    tasks.push_back(aio::create_task(download("mirror-eu", 80ms), "mirror-eu"));
    tasks.push_back(aio::create_task(download("mirror-us", 20ms), "mirror-us"));
    tasks.push_back(aio::create_task(download("mirror-asia", 60ms), "mirror-asia"));

    auto [done, pending] = co_await aio::wait(tasks, {.timeout = std::nullopt, .return_when = aio::FIRST_COMPLETED});
    fmt::print("done: {} task, pending: {} tasks\n", done.size(), pending.size());
    std::string first = co_await done.front();
    fmt::print("first result: {} ({})\n", first, done.front().get_name());

    fmt::print("cancelling the rest:\n");
    for (auto& t : pending) t.cancel();
    // Wait for them to finish cancelling (their cleanup has run after this).
    co_await aio::wait(pending);
    std::size_t cancelled = 0;
    for (auto& t : pending) cancelled += t.cancelled() ? 1 : 0;
    fmt::print("{} of {} pending tasks cancelled\n", cancelled, pending.size());

    co_return (first == "data from mirror-us" && cancelled == 2) ? 0 : 1;
}

int main() { return aio::run(amain()); }
