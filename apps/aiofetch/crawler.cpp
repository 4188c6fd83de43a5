#include "crawler.hpp"

#include <random>

#include "links.hpp"

namespace aiofetch {

RateLimiter::RateLimiter(double per_second) noexcept {
    if (per_second > 0) {
        interval_ = std::chrono::duration_cast<aio::Clock::duration>(std::chrono::duration<double>(1.0 / per_second));
    }
}

aio::Coro<> RateLimiter::acquire() {
    if (interval_ == aio::Clock::duration::zero()) co_return;
    const auto now = aio::get_running_loop().time();
    const auto slot = std::max(now, next_);
    next_ = slot + interval_;
    try {
        co_await aio::sleep_until(slot);
    } catch (...) {
        // Give the slot back only if no later slot was handed out meanwhile.
        if (next_ == slot + interval_) next_ = slot;
        throw;
    }
}

Crawler::Crawler(Options options, std::function<void(const Result&)> on_result)
    : options_(options),
      on_result_(std::move(on_result)),
      session_(aio::http::SessionOptions{.limit = options.concurrency, .verify_ssl = options.verify_tls}),
      slots_(static_cast<std::ptrdiff_t>(options.concurrency)),
      limiter_(options.rate) {}

aio::Coro<> Crawler::run(std::vector<std::string> start_urls) {
    co_await aio::task_group([this, &start_urls](aio::TaskGroup& group) -> aio::Coro<> {
        for (const auto& text : start_urls) {
            try {
                aio::http::URL url(text);
                if (!url.is_absolute() || (url.scheme() != "http" && url.scheme() != "https")) {
                    throw aio::http::InvalidURL("InvalidURL: not an http or https URL: '" + text + "'");
                }
                hosts_.insert(url.host());
                schedule(group, std::move(url), 0);
            } catch (const aio::http::InvalidURL& e) {
                Result r;
                r.url = text;
                r.error = e.what();
                r.attempts = 0;
                on_result_(r);
            }
        }
        co_return;
    });
    co_await session_.close();
}

void Crawler::schedule(aio::TaskGroup& group, aio::http::URL url, int depth) {
    if (seen_.size() >= options_.max_pages) return;
    if (!seen_.insert(url.str()).second) return;
    group.create_task(visit(group, std::move(url), depth));
}

aio::Coro<> Crawler::visit(aio::TaskGroup& group, aio::http::URL url, int depth) {
    std::vector<aio::http::URL> links;
    Result result;
    {
        auto slot = co_await slots_.scoped();
        result = co_await fetch(url, depth, links);
    }
    on_result_(result);
    for (auto& link : links) {
        if (hosts_.count(link.host())) schedule(group, std::move(link), depth + 1);
    }
}

namespace {

bool retryable_status(int status) { return status == 429 || status >= 500; }

// Exponential backoff with full jitter: 100 ms, 200 ms, 400 ms... capped at 5 s.
aio::Clock::duration backoff(int attempt) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    const double cap_ms = std::min(5000.0, 100.0 * static_cast<double>(1 << std::min(attempt, 16)));
    std::uniform_real_distribution<double> jitter(0.0, cap_ms);
    return std::chrono::duration_cast<aio::Clock::duration>(std::chrono::duration<double, std::milli>(jitter(rng)));
}

}  // namespace

aio::Coro<Result> Crawler::fetch(const aio::http::URL& url, int depth, std::vector<aio::http::URL>& links) {
    Result r;
    r.url = url.str();
    r.depth = depth;
    const auto start = aio::get_running_loop().time();
    for (int attempt = 1;; ++attempt) {
        r.attempts = attempt;
        r.error.clear();
        r.status = 0;
        r.bytes = 0;
        bool retry = false;
        try {
            co_await limiter_.acquire();
            auto body_and_status = co_await aio::wait_for(get(url, depth, links), options_.timeout);
            r.status = body_and_status.first;
            r.bytes = body_and_status.second;
            retry = retryable_status(r.status);
        } catch (const aio::http::ClientError& e) {
            r.error = e.what();
            retry = true;
        } catch (const aio::TimeoutError& e) {
            r.error = e.what();
            retry = true;
        } catch (const aio::ValueError& e) {
            r.error = e.what();  // a redirect to a malformed URL: retrying will not help
        }
        if (!retry || attempt > options_.retries) break;
        co_await aio::sleep(backoff(attempt - 1));
    }
    r.elapsed_ms = std::chrono::duration<double, std::milli>(aio::get_running_loop().time() - start).count();
    co_return r;
}

aio::Coro<std::pair<int, std::uint64_t>> Crawler::get(const aio::http::URL& url, int depth,
                                                       std::vector<aio::http::URL>& links) {
    aio::http::ClientResponse resp = co_await session_.get(url);
    std::string body = co_await resp.read();
    links.clear();
    const bool html = resp.headers().get("content-type", "").find("text/html") != std::string_view::npos;
    if (options_.crawl && depth < options_.depth && resp.status() < 400 && html) links = extract_links(body, resp.url());
    co_return std::make_pair(resp.status(), static_cast<std::uint64_t>(body.size()));
}

}  // namespace aiofetch
