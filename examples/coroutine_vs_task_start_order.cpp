// asyncio tutorial: "Coroutines vs Tasks" — calling a coroutine function runs nothing
// until it is awaited; create_task() schedules it to start at the loop's next step.
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;

std::vector<std::string> order;

aio::Coro<> say(std::string who) {
    fmt::print("    {} is running\n", who);
    order.push_back(who);
    co_return;
}

aio::Coro<int> amain() {
    fmt::print("1. say(\"coroutine\") is called: it only creates a coroutine object\n");
    aio::Coro<> coro = say("coroutine");

    fmt::print("2. create_task(say(\"task\")): scheduled, not started yet\n");
    aio::Task<> task = aio::create_task(say("task"), "say-task");
    order.push_back("main");

    fmt::print("3. co_await the coroutine: it runs now, inline, before the task\n");
    co_await std::move(coro);

    fmt::print("4. co_await sleep(0): main yields, the task gets its first step\n");
    co_await aio::sleep(0ms);

    fmt::print("5. the task is done: {}\n", task.done());
    co_await task;

    const std::vector<std::string> expected{"main", "coroutine", "task"};
    fmt::print("order: {} -> {} -> {}\n", order[0], order[1], order[2]);
    co_return order == expected ? 0 : 1;
}

int main() { return aio::run(amain()); }
