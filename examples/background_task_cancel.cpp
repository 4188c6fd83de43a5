// asyncio tutorial: "Cancelling a task" — a background ticker runs until it is
// cancelled; CancelledError is raised at its await and its cleanup still runs.
#include <aio/aio.hpp>
#include <fmt/core.h>

using namespace std::chrono_literals;

bool cleanup_ran = false;

aio::Coro<> ticker() {
    int ticks = 0;
    try {
        for (;;) {
            co_await aio::sleep(20ms);
            fmt::print("ticker: tick {}\n", ++ticks);
        }
    } catch (const aio::CancelledError&) {
        fmt::print("ticker: cancelled after {} ticks, cleaning up\n", ticks);
        cleanup_ran = true;
        throw;  // re-raise, as asyncio expects, so the task ends cancelled
    }
}

aio::Coro<int> amain() {
    aio::Task<> task = aio::create_task(ticker(), "ticker");
    co_await aio::sleep(70ms);  // let it tick three times

    fmt::print("main: cancelling the ticker\n");
    task.cancel();
    try {
        co_await task;
    } catch (const aio::CancelledError&) {
        fmt::print("main: the ticker is cancelled now\n");
    }
    fmt::print("task.cancelled() = {}, cleanup ran = {}\n", task.cancelled(), cleanup_ran);
    co_return task.cancelled() && cleanup_ran ? 0 : 1;
}

int main() { return aio::run(amain()); }
