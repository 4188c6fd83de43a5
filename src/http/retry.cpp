#include "aio/http/retry.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "aio/loop.hpp"
#include "http/file_response.hpp"

namespace aio::http {

Clock::duration backoff_delay(const RetryOptions& options, int retry) {
    const double base = std::chrono::duration<double>(options.initial_delay).count();
    const double cap = std::chrono::duration<double>(options.max_delay).count();
    double seconds = std::min(cap, base * std::pow(options.factor, std::max(0, retry - 1)));
    if (!(seconds >= 0)) seconds = cap;  // NaN or negative from odd options
    if (options.jitter) {
        thread_local std::mt19937_64 rng{std::random_device{}()};
        seconds = std::uniform_real_distribution<double>(0.0, seconds)(rng);
    }
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

namespace detail {

namespace {

std::optional<Clock::duration> parse_retry_after(std::string_view value, const RetryOptions& options) {
    if (!options.respect_retry_after || value.empty()) return std::nullopt;
    std::int64_t seconds = 0;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (value.size() > 9) return options.max_delay;
        for (char c : value) seconds = seconds * 10 + (c - '0');
    } else if (auto when = parse_http_date(value)) {
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        seconds = std::max<std::int64_t>(0, *when - now);
    } else {
        return std::nullopt;
    }
    return std::min<Clock::duration>(std::chrono::seconds(seconds), options.max_delay);
}

}  // namespace

bool retryable_error(const std::exception_ptr& error, const RetryOptions& options, Clock::duration& delay) noexcept {
    try {
        std::rethrow_exception(error);
    } catch (const ClientSSLError&) {
        return false;  // the same certificate fails the same way again
    } catch (const ClientConnectionError&) {
        return true;
    } catch (const TimeoutError&) {
        return true;
    } catch (const TooManyRedirects&) {
        return false;
    } catch (const ClientResponseError& e) {
        if (!options.retry_on_status || !options.retry_on_status(e.status())) return false;
        if (options.respect_retry_after && e.retry_after()) {
            delay = std::min<Clock::duration>(*e.retry_after(), options.max_delay);
        }
        return true;
    } catch (...) {
        return false;
    }
}

std::optional<Clock::duration> retry_after(const ClientResponse& response, const RetryOptions& options) noexcept {
    try {
        auto value = response.headers().get("Retry-After");
        return value ? parse_retry_after(*value, options) : std::nullopt;
    } catch (...) {
        return std::nullopt;
    }
}

bool small_body(const ClientResponse& response) noexcept {
    auto length = response.headers().get("Content-Length");
    return length && !length->empty() && length->size() <= 5 &&
           std::all_of(length->begin(), length->end(), [](char c) { return c >= '0' && c <= '9'; }) &&
           std::stoul(std::string(*length)) <= 64 * 1024;
}

bool fits_deadline(Clock::duration delay) noexcept {
    const auto deadline = current_deadline();
    return !deadline || get_running_loop().time() + delay < *deadline;
}

}  // namespace detail

}  // namespace aio::http
