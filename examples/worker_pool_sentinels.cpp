// asyncio tutorial: "worker pool with a bounded queue" — a producer feeds jobs through
// a bounded Queue (back-pressure) and ends with one sentinel per worker; each worker
// stops when it takes a sentinel (std::nullopt here, `None` in Python).
#include <aio/aio.hpp>
#include <aio/queues.hpp>
#include <fmt/core.h>

#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;

using Job = std::optional<std::string>;  // nullopt is the sentinel

aio::Coro<int> worker(int id, aio::Queue<Job>& queue) {
    int done = 0;
    while (Job job = co_await queue.get()) {
        co_await aio::sleep(10ms);  // process *job
        fmt::print("worker-{} processed {}\n", id, *job);
        ++done;
    }
    fmt::print("worker-{} got the sentinel, exiting after {} jobs\n", id, done);
    co_return done;
}

aio::Coro<> producer(aio::Queue<Job>& queue, int jobs, int workers) {
    for (int i = 1; i <= jobs; ++i) {
        Job job = fmt::format("url-{}", i);
        co_await queue.put(std::move(job));  // waits while the queue is full
    }
    for (int w = 0; w < workers; ++w) {
        Job sentinel = std::nullopt;
        co_await queue.put(std::move(sentinel));
    }
}

aio::Coro<int> amain() {
    constexpr int n_jobs = 10;
    constexpr int n_workers = 3;
    aio::Queue<Job> queue(4);  // maxsize 4: the producer cannot run far ahead

    std::vector<aio::Coro<int>> workers;
    for (int id = 1; id <= n_workers; ++id) workers.push_back(worker(id, queue));
    auto [counts, _] = co_await aio::gather(aio::gather(std::move(workers)), producer(queue, n_jobs, n_workers));

    int total = 0;
    for (int c : counts) total += c;
    fmt::print("all workers stopped; {} jobs processed ({} + {} + {})\n", total, counts[0], counts[1], counts[2]);
    co_return (total == n_jobs && queue.empty()) ? 0 : 1;
}

int main() { return aio::run(amain()); }
