// aiocpp's side of the core benchmarks: spawn, spawn_all, switch, timers, sleepers.
// Same CLI and JSON line as bench/peers (see bench/peers/README.md): PROGRAM WORKLOAD N.
#include <aio/aio.hpp>
#include <aio/queues.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/core.h>

namespace {

using namespace std::chrono_literals;

long rss_kb(const char* field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + std::string(field).size() + 1, nullptr, 10);
    }
    return 0;
}

std::vector<int> delays_ms(long n) {
    std::vector<int> out;
    out.reserve(static_cast<std::size_t>(n));
    std::uint32_t x = 42;
    for (long i = 0; i < n; ++i) {
        x = x * 1664525u + 1013904223u;
        out.push_back(static_cast<int>((x >> 8) % 1001));
    }
    return out;
}

aio::Coro<long> ret(long i) { co_return i; }

aio::Coro<> spawn(long n) {
    long sum = 0;
    for (long i = 0; i < n; ++i) sum += co_await aio::create_task(ret(i));
    if (sum != n * (n - 1) / 2) std::abort();
}

aio::Coro<> spawn_all(long n) {
    std::vector<aio::Task<long>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) tasks.push_back(aio::create_task(ret(i)));
    long sum = 0;
    for (auto& t : tasks) sum += co_await t;
    if (sum != n * (n - 1) / 2) std::abort();
}

aio::Coro<> pong(aio::Queue<long>& q1, aio::Queue<long>& q2, long n) {
    for (long i = 0; i < n; ++i) {
        long v = co_await q1.get();
        co_await q2.put(v);
    }
}

aio::Coro<> ping_pong(long n) {
    aio::Queue<long> q1, q2;
    auto b = aio::create_task(pong(q1, q2, n));
    for (long i = 0; i < n; ++i) {
        co_await q1.put(i);
        if (co_await q2.get() != i) std::abort();
    }
    co_await b;
}

aio::Coro<> sleep_ms(int ms) { co_await aio::sleep(std::chrono::milliseconds(ms)); }

aio::Coro<> sleep_all(std::vector<int> ms) {
    std::vector<aio::Task<>> tasks;
    tasks.reserve(ms.size());
    for (int d : ms) tasks.push_back(aio::create_task(sleep_ms(d)));
    co_await aio::gather(tasks);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s spawn|spawn_all|switch|timers|sleepers N\n", argv[0]);
        return 2;
    }
    const std::string workload = argv[1];
    const long n = std::strtol(argv[2], nullptr, 10);
    std::vector<int> delays;
    int max_sleep = 0;
    if (workload == "timers") {
        delays = delays_ms(n);
        for (int d : delays) max_sleep = std::max(max_sleep, d);
    } else if (workload == "sleepers") {
        delays.assign(static_cast<std::size_t>(n), 1000);
        max_sleep = 1000;
    }
    aio::Runner runner;
    const long baseline = rss_kb("VmRSS:");
    const auto start = std::chrono::steady_clock::now();
    if (workload == "spawn") {
        runner.run(spawn(n));
    } else if (workload == "spawn_all") {
        runner.run(spawn_all(n));
    } else if (workload == "switch") {
        runner.run(ping_pong(n));
    } else if (workload == "timers" || workload == "sleepers") {
        runner.run(sleep_all(std::move(delays)));
    } else {
        std::fprintf(stderr, "unknown workload %s\n", workload.c_str());
        return 2;
    }
    const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const long peak = rss_kb("VmHWM:");
    std::string extra;
    if (max_sleep) extra = fmt::format(",\"max_sleep_ms\":{},\"lateness_ms\":{:.1f}", max_sleep, wall_ms - max_sleep);
    fmt::print("{{\"peer\":\"aiocpp\",\"workload\":\"{}\",\"n\":{},\"ns_per_op\":{:.1f},\"wall_ms\":{:.1f},"
               "\"baseline_rss_kb\":{},\"peak_rss_kb\":{},\"bytes_per_task\":{:.1f}{}}}\n",
               workload, n, wall_ms * 1e6 / static_cast<double>(n), wall_ms, baseline, peak,
               static_cast<double>(peak - baseline) * 1024.0 / static_cast<double>(n), extra);
    return 0;
}
