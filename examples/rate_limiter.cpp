// asyncio tutorial: "rate limiting" — at most N requests per period. A Semaphore(N)
// permit is taken per request and given back by loop.call_later(period), so no window
// of `period` ever holds more than N starts.
#include <aio/aio.hpp>
#include <aio/locks.hpp>
#include <fmt/core.h>

#include <chrono>
#include <vector>

using namespace std::chrono_literals;

class RateLimiter {
public:
    RateLimiter(int rate, aio::Clock::duration period) : permits_(rate), period_(period) {}
    /// Waits for a permit; returns the start time the permit is charged to.
    aio::Coro<aio::Clock::time_point> acquire() {
        co_await permits_.acquire();
        auto release = aio::get_running_loop().call_later(period_, [this] { permits_.release(); });
        co_return release.when() - period_;
    }

private:
    aio::Semaphore permits_;
    aio::Clock::duration period_;
};

std::vector<aio::Clock::time_point> starts;

aio::Coro<> request(int i, RateLimiter& limiter, aio::Clock::time_point t0) {
    const auto now = co_await limiter.acquire();
    starts.push_back(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - t0);
    fmt::print("request {} sent at t={:>3} ms\n", i, ms.count());
    co_await aio::sleep(5ms);  // the request itself
}

aio::Coro<int> amain() {
    constexpr int rate = 3;
    constexpr auto period = 50ms;
    RateLimiter limiter(rate, period);
    const auto t0 = aio::get_running_loop().time();

    std::vector<aio::Coro<>> requests;
    for (int i = 1; i <= 9; ++i) requests.push_back(request(i, limiter, t0));
    co_await aio::gather(std::move(requests));
    co_await aio::sleep(period);  // let the last permits come back before the loop closes

    bool ok = starts.size() == 9;
    for (std::size_t i = rate; i < starts.size(); ++i) ok = ok && starts[i] - starts[i - rate] >= period;
    fmt::print("{} requests, never more than {} per {} ms: {}\n", starts.size(), rate, period.count(),
               ok ? "yes" : "NO");
    co_return ok ? 0 : 1;
}

int main() { return aio::run(amain()); }
