// asyncio tutorial: "Queues" (the asyncio.Queue docs example) — workers take jobs from
// a queue and call task_done(); queue.join() waits until every job was processed, then
// the idle workers are cancelled.
#include <aio/aio.hpp>
#include <aio/queues.hpp>
#include <fmt/core.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

int processed = 0;

aio::Coro<> worker(std::string name, aio::Queue<int>& queue) {
    for (;;) {
        int sleep_for_ms = co_await queue.get();
        co_await aio::sleep(std::chrono::milliseconds(sleep_for_ms));
        ++processed;
        queue.task_done();  // one job processed
        fmt::print("{} has slept for {} ms\n", name, sleep_for_ms);
    }
}

aio::Coro<int> amain() {
    aio::Queue<int> queue;
    int total_ms = 0;
    for (int i = 0; i < 12; ++i) {
        const int ms = 10 + 10 * (i % 4);  // 10, 20, 30, 40, ...
        total_ms += ms;
        queue.put_nowait(ms);
    }

    std::vector<aio::Task<>> workers;
    for (int i = 0; i < 3; ++i) workers.push_back(aio::create_task(worker(fmt::format("worker-{}", i), queue)));

    const auto started_at = std::chrono::steady_clock::now();
    co_await queue.join();  // until task_done() was called for every item
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_at);

    for (auto& w : workers) w.cancel();  // they are waiting in get(): stop them
    co_await aio::gather(aio::return_exceptions, workers);

    fmt::print("====\n");
    fmt::print("3 workers slept in parallel for {} ms\n", took.count());
    fmt::print("total expected sleep time: {} ms\n", total_ms);
    co_return (processed == 12 && took.count() < total_ms) ? 0 : 1;
}

int main() { return aio::run(amain()); }
