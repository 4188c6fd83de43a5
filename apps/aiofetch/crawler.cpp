#include "crawler.hpp"

#include "aio/http/retry.hpp"

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

aio::Coro<Result> Crawler::fetch(const aio::http::URL& url, int depth, std::vector<aio::http::URL>& links) {
    Result r;
    r.url = url.str();
    r.depth = depth;
    r.attempts = 0;  // attempt() counts
    const auto start = aio::get_running_loop().time();
    // Exponential backoff with full jitter: up to 100 ms, 200 ms, 400 ms... capped at 5 s.
    const aio::http::RetryOptions retry_options{
        .attempts = options_.retries + 1, .initial_delay = std::chrono::milliseconds(100), .max_delay = std::chrono::seconds(5)};
    auto one_attempt = [&] { return attempt(url, depth, links, r); };
    try {
        co_await aio::http::retry(one_attempt, retry_options);
    } catch (const aio::http::ClientResponseError&) {
        // A retryable status on the last attempt: `r` holds its status and size.
    } catch (const aio::http::ClientError& e) {
        r.error = e.what();
    } catch (const aio::TimeoutError& e) {
        r.error = e.what();
    } catch (const aio::ValueError& e) {
        r.error = e.what();  // a redirect to a malformed URL
    }
    r.elapsed_ms = std::chrono::duration<double, std::milli>(aio::get_running_loop().time() - start).count();
    co_return r;
}

aio::Coro<bool> Crawler::attempt(const aio::http::URL& url, int depth, std::vector<aio::http::URL>& links, Result& r) {
    ++r.attempts;
    r.error.clear();
    r.status = 0;
    r.bytes = 0;
    co_await limiter_.acquire();
    co_await aio::wait_for(get(url, depth, links, r), options_.timeout);
    co_return true;
}

aio::Coro<> Crawler::get(const aio::http::URL& url, int depth, std::vector<aio::http::URL>& links, Result& r) {
    aio::http::ClientResponse resp = co_await session_.get(url);
    std::string body = co_await resp.read();
    r.status = resp.status();
    r.bytes = body.size();
    // 5xx, 429...: raised so retry() tries again (after the response's Retry-After).
    if (aio::http::retryable_status(r.status)) resp.raise_for_status();
    links.clear();
    const bool html = resp.headers().get("content-type", "").find("text/html") != std::string_view::npos;
    if (options_.crawl && depth < options_.depth && resp.status() < 400 && html) links = extract_links(body, resp.url());
}

}  // namespace aiofetch
