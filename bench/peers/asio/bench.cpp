// Peer benchmark: standalone Asio C++20 coroutines (spawn, spawn_all, switch, timers, sleepers); see bench/peers/README.md.
#include <asio.hpp>
#include <asio/experimental/channel.hpp>
#include <asio/experimental/promise.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

using asio::awaitable;
using asio::use_awaitable;
using channel = asio::experimental::channel<void(asio::error_code, long)>;

static long rss_kb(const std::string& field) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return 0;
}

// Shared LCG every peer uses: uniform integer delays in [0, 1000] ms.
static std::vector<int> delays_ms(long n) {
  std::uint32_t x = 42;
  std::vector<int> out(n);
  for (auto& d : out) {
    x = x * 1664525u + 1013904223u;
    d = int((x >> 8) % 1001);
  }
  return out;
}

static void check(bool ok) {
  if (!ok) throw std::runtime_error("wrong result");
}

awaitable<long> ret(long i) { co_return i; }

awaitable<void> spawn(long n) {
  auto ex = co_await asio::this_coro::executor;
  long s = 0;
  for (long i = 0; i < n; ++i) s += co_await asio::co_spawn(ex, ret(i), use_awaitable);
  check(s == n * (n - 1) / 2);
}

awaitable<void> spawn_all(long n) {
  auto ex = co_await asio::this_coro::executor;
  std::vector<asio::experimental::promise<void(std::exception_ptr, long)>> tasks;
  tasks.reserve(n);
  for (long i = 0; i < n; ++i) tasks.push_back(asio::co_spawn(ex, ret(i), asio::experimental::use_promise));
  long s = 0;
  for (auto& t : tasks) s += co_await t.async_wait(use_awaitable);
  check(s == n * (n - 1) / 2);
}

awaitable<void> pong(channel& q1, channel& q2, long n) {
  for (long i = 0; i < n; ++i) co_await q2.async_send({}, co_await q1.async_receive(use_awaitable), use_awaitable);
}

awaitable<void> ping_pong(long n) {
  auto ex = co_await asio::this_coro::executor;
  channel q1(ex, 1), q2(ex, 1);
  asio::co_spawn(ex, pong(q1, q2, n), asio::detached);
  for (long i = 0; i < n; ++i) {
    co_await q1.async_send({}, i, use_awaitable);
    check(co_await q2.async_receive(use_awaitable) == i);
  }
}

awaitable<void> sleeper(int ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(use_awaitable);
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::string workload = argv[1];
  long n = std::stol(argv[2]);
  std::vector<int> ms;
  if (workload == "timers") ms = delays_ms(n);
  if (workload == "sleepers") ms.assign(n, 1000);
  asio::io_context ctx(1);
  long base = rss_kb("VmRSS");
  auto t0 = std::chrono::steady_clock::now();
  if (!ms.empty()) {
    for (int d : ms) asio::co_spawn(ctx, sleeper(d), asio::detached);
  } else {
    auto fn = workload == "spawn" ? spawn : workload == "spawn_all" ? spawn_all : workload == "switch" ? ping_pong : nullptr;
    if (!fn) throw std::runtime_error("unknown workload " + workload);
    asio::co_spawn(ctx, fn(n), [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  }
  ctx.run();  // returns when every task has finished
  double wall_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  long peak = rss_kb("VmHWM");
  std::printf(R"({"peer":"asio","workload":"%s","n":%ld,"ns_per_op":%.3f,"wall_ms":%.3f,"baseline_rss_kb":%ld,"peak_rss_kb":%ld,"bytes_per_task":%.3f)",
              workload.c_str(), n, wall_ns / n, wall_ns / 1e6, base, peak, (peak - base) * 1024.0 / n);
  if (!ms.empty()) {
    int mx = *std::max_element(ms.begin(), ms.end());
    std::printf(R"(,"max_sleep_ms":%d,"lateness_ms":%.3f)", mx, wall_ns / 1e6 - mx);
  }
  std::printf("}\n");
}
