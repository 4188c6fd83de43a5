// asyncio tutorial: "TaskGroup" — when one child fails, its siblings are cancelled and
// every error comes out together as an ExceptionGroup (`except* ValueError`).
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <chrono>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

int cancelled_siblings = 0;

aio::Coro<> worker(std::string name, std::chrono::milliseconds delay) {
    try {
        co_await aio::sleep(delay);
        fmt::print("{}: finished\n", name);
    } catch (const aio::CancelledError&) {
        fmt::print("{}: cancelled by the group\n", name);
        ++cancelled_siblings;
        throw;
    }
}

aio::Coro<> failing(std::string name, std::chrono::milliseconds delay) {
    co_await aio::sleep(delay);
    fmt::print("{}: raising ValueError\n", name);
    throw std::invalid_argument(name + " got a bad value");
}

aio::Coro<int> amain() {
    try {
        co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Coro<> {
            tg.create_task(worker("fast", 10ms));
            tg.create_task(failing("broken", 30ms));
            tg.create_task(worker("slow-1", 500ms));
            tg.create_task(worker("slow-2", 500ms));
            co_return;
        });
        fmt::print("not reached\n");
    } catch (const aio::ExceptionGroup& eg) {
        fmt::print("caught ExceptionGroup('{}') with {} sub-exception(s):\n", eg.message(), eg.exceptions().size());
        for (const auto& e : eg.exceptions()) fmt::print("  {}\n", aio::describe(e));
        auto [value_errors, rest] = eg.split<std::invalid_argument>();
        fmt::print("except* ValueError matched: {}, rest: {}\n", value_errors.has_value(), rest.has_value());
    }
    fmt::print("siblings cancelled: {}\n", cancelled_siblings);
    co_return cancelled_siblings == 2 ? 0 : 1;
}

int main() { return aio::run(amain()); }
