// The README example: gather, a named task and a TaskGroup, as in asyncio's tutorial.
#include <aio/aio.hpp>
#include <fmt/core.h>

using namespace std::chrono_literals;

aio::Coro<std::string> fetch_data(std::string name, std::chrono::milliseconds d) {
    fmt::print("[{}] start\n", name);
    co_await aio::sleep(d);  // yields to the loop, like `await asyncio.sleep(d)`
    co_return name + " result";
}

aio::Coro<int> amain() {
    auto [a, b] = co_await aio::gather(fetch_data("A", 20ms), fetch_data("B", 10ms));
    auto t = aio::create_task(fetch_data("X", 10ms), "fetch-X");  // scheduled now
    std::string x = co_await t;
    co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Coro<> {
        tg.create_task(fetch_data("D", 10ms));
        tg.create_task(fetch_data("E", 10ms));
        co_return;
    });  // all done here, or an ExceptionGroup
    fmt::print("{}, {}, {}\n", a, b, x);
    co_return 0;
}

int main() { return aio::run(amain()); }
