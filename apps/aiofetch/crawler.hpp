// The fetch/crawl engine behind aiofetch: concurrent GETs bounded by a Semaphore, paced by
// a rate limiter, retried with backoff, following same-host links when crawling.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "aio/aio.hpp"
#include "aio/http/client.hpp"
#include "report.hpp"

namespace aiofetch {

struct Options {
    std::size_t concurrency = 10;                   // requests in flight at most
    double rate = 0;                                // requests started per second; 0: unlimited
    int retries = 2;                                // extra attempts after a failure
    std::chrono::milliseconds timeout{30'000};      // per attempt, whole request
    bool crawl = false;                             // follow same-host links
    int depth = 2;                                  // link distance followed from a start URL
    std::size_t max_pages = 100'000;                // stop discovering beyond this many URLs
    bool verify_tls = true;
};

/// Paces starts to `per_second` (aiolimiter's AsyncLimiter with a burst of one): each
/// acquire() waits until its slot.
/// Thread-safety: loop-affine.
class RateLimiter {
public:
    explicit RateLimiter(double per_second) noexcept;
    /// Waits for the next slot; returns at once when the rate is unlimited.
    /// Cancellation: Cancel-safe: a cancelled wait gives its slot back.
    [[nodiscard]] aio::Coro<> acquire();

private:
    aio::Clock::duration interval_{};
    aio::Clock::time_point next_{};
};

/// Fetches the start URLs (and, when crawling, what they link to) and calls `on_result`
/// once per URL as it completes, and `on_discovered` whenever the number of known URLs
/// grows. Invalid start URLs are reported as results with an error.
/// Thread-safety: loop-affine.
class Crawler {
public:
    Crawler(Options options, std::function<void(const Result&)> on_result);

    /// Runs until every URL is done.
    /// Cancellation: Cancel-safe: in-flight requests are cancelled and awaited; every
    /// result reported so far stays reported.
    [[nodiscard]] aio::Coro<> run(std::vector<std::string> start_urls);

    /// URLs known so far (start URLs plus discovered links).
    [[nodiscard]] std::size_t known() const noexcept { return seen_.size(); }

private:
    aio::Coro<> visit(aio::TaskGroup& group, aio::http::URL url, int depth);
    aio::Coro<Result> fetch(const aio::http::URL& url, int depth, std::vector<aio::http::URL>& links);
    /// One try: waits for the rate limiter, then get() within the timeout.
    aio::Coro<bool> attempt(const aio::http::URL& url, int depth, std::vector<aio::http::URL>& links, Result& r);
    /// Fetches `url` into `r`; raises ClientResponseError for a status worth retrying.
    aio::Coro<> get(const aio::http::URL& url, int depth, std::vector<aio::http::URL>& links, Result& r);
    void schedule(aio::TaskGroup& group, aio::http::URL url, int depth);

    Options options_;
    std::function<void(const Result&)> on_result_;
    aio::http::ClientSession session_;
    aio::Semaphore slots_;
    RateLimiter limiter_;
    std::unordered_set<std::string> seen_;
    std::unordered_set<std::string> hosts_;  // crawling stays on the start URLs' hosts
};

}  // namespace aiofetch
