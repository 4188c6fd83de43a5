// asyncio tutorial: "Timeouts" — asyncio.wait_for(aw, timeout) and
// `async with asyncio.timeout(delay):`, both raising TimeoutError after cancelling the
// work (whose cleanup still runs).
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <chrono>

using namespace std::chrono_literals;

int cleanups = 0;

aio::Coro<int> slow_operation(std::chrono::milliseconds took) {
    try {
        co_await aio::sleep(took);
    } catch (const aio::CancelledError&) {
        fmt::print("  slow_operation: cancelled, cleaning up\n");
        ++cleanups;
        throw;
    }
    co_return 42;
}

aio::Coro<int> amain() {
    int timeouts = 0;

    fmt::print("wait_for(slow_operation(20 ms), 100 ms):\n");
    int value = co_await aio::wait_for(slow_operation(20ms), 100ms);
    fmt::print("  result: {}\n", value);

    fmt::print("wait_for(slow_operation(1 s), 50 ms):\n");
    try {
        co_await aio::wait_for(slow_operation(1s), 50ms);
    } catch (const aio::TimeoutError&) {
        fmt::print("  timeout!\n");
        ++timeouts;
    }

    fmt::print("async with timeout(50 ms): two awaits sharing one deadline:\n");
    try {
        co_await aio::timeout(50ms, [](aio::Timeout& t) -> aio::Coro<> {
            co_await slow_operation(30ms);
            fmt::print("  first step done, deadline not expired: {}\n", !t.expired());
            co_await slow_operation(30ms);  // 60 ms in total: past the deadline
            fmt::print("  not reached\n");
        });
    } catch (const aio::TimeoutError& e) {
        fmt::print("  timeout! ({})\n", e.what());
        ++timeouts;
    }

    fmt::print("timeouts: {}, cleanups: {}\n", timeouts, cleanups);
    co_return (value == 42 && timeouts == 2 && cleanups == 2) ? 0 : 1;
}

int main() { return aio::run(amain()); }
