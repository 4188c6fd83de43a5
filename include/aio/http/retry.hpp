// Retrying a request with exponential backoff and jitter (aiohttp_retry's
// ExponentialRetry, urllib3's Retry, tenacity's wait_random_exponential).
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/http/client.hpp"
#include "aio/sleep.hpp"
#include "aio/timeouts.hpp"

namespace aio::http {

/// 408, 429, 500, 502, 503 and 504: the statuses worth another try.
[[nodiscard]] constexpr bool retryable_status(int status) noexcept {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/// How retry() retries. Trivially destructible: pass it inline.
struct RetryOptions {
    int attempts = 3;                                  // in all, the first included
    std::chrono::milliseconds initial_delay{100};      // before the second attempt
    double factor = 2.0;                               // each delay is the last one times this
    std::chrono::milliseconds max_delay{10'000};       // cap on one delay (Retry-After included)
    bool jitter = true;                                // full jitter: uniform in [0, delay]
    bool (*retry_on_status)(int) = retryable_status;   // nullptr: never retry on a status
    bool respect_retry_after = true;                   // a 429/503's Retry-After sets the delay
};
static_assert(std::is_trivially_destructible_v<RetryOptions>, "options structs must be trivially destructible (g++ 12)");

/// The delay before retry number `retry` (1 for the second attempt): initial_delay ×
/// factor^(retry−1), capped at max_delay, then drawn uniformly from [0, that] with jitter.
[[nodiscard]] Clock::duration backoff_delay(const RetryOptions& options, int retry);

namespace detail {
template <class T>
struct coro_value;
template <class T>
struct coro_value<Coro<T>> {
    using type = T;
};

/// Whether an exception from one attempt is worth another: a lost or refused connection
/// or a timeout (not a TLS or certificate failure, nor a bad URL), or a
/// ClientResponseError whose status `options` retries; `delay` becomes its Retry-After.
bool retryable_error(const std::exception_ptr& error, const RetryOptions& options, Clock::duration& delay) noexcept;
/// The response's Retry-After (seconds or an HTTP date), capped at max_delay.
std::optional<Clock::duration> retry_after(const ClientResponse& response, const RetryOptions& options) noexcept;
/// A Content-Length of at most 64 KiB.
bool small_body(const ClientResponse& response) noexcept;
/// Whether sleeping `delay` still leaves time before the current deadline.
bool fits_deadline(Clock::duration delay) noexcept;
}  // namespace detail

/// Calls `attempt` (a callable returning `Coro<T>`, usually one request) until it succeeds
/// or `options.attempts` are spent, sleeping with exponential backoff and jitter between.
/// Retried: ClientConnectionError (refused, reset, disconnected; not TLS failures) and
/// timeouts (aio::TimeoutError, so ServerTimeoutError and the request's total timeout);
/// when T is ClientResponse, also a response whose status `retry_on_status` accepts (its
/// connection is released first; a Retry-After header sets the delay). Anything else
/// propagates at once. When attempts run out, or the next delay would pass
/// aio::current_deadline(), the last response is returned or the last error raised.
/// `co_await aio::http::retry([&] { return session.get(url); })`: the request's
/// arguments (here `url`) must outlive the retry, since each attempt starts later.
/// Cancellation: Cancel-safe: cancelling stops at the current attempt or delay.
template <class F>
[[nodiscard]] std::invoke_result_t<F&> retry(F attempt, RetryOptions options = {}) {
    using Result = typename detail::coro_value<std::invoke_result_t<F&>>::type;
    static_assert(!std::is_void_v<Result>, "retry() needs an attempt that returns a value");
    for (int n = 1;; ++n) {
        const bool last = n >= options.attempts;
        std::exception_ptr error;
        std::optional<Result> result;
        try {
            result.emplace(co_await attempt());
        } catch (const CancelledError&) {
            throw;
        } catch (...) {
            error = std::current_exception();
        }
        Clock::duration delay = backoff_delay(options, n);
        if (error) {
            if (last || !detail::retryable_error(error, options, delay) || !detail::fits_deadline(delay)) {
                std::rethrow_exception(error);
            }
        } else {
            if constexpr (std::is_same_v<Result, ClientResponse>) {
                if (last || !options.retry_on_status || !options.retry_on_status(result->status())) {
                    co_return std::move(*result);
                }
                if (auto after = detail::retry_after(*result, options)) delay = *after;
                if (!detail::fits_deadline(delay)) co_return std::move(*result);
                // A small error body is read so the connection can go back to the pool.
                if (detail::small_body(*result)) {
                    try {
                        (void)co_await result->read();
                    } catch (const CancelledError&) {
                        throw;
                    } catch (...) {
                        // The connection is closed instead; the retry uses another.
                    }
                }
                result->release();
            } else {
                co_return std::move(*result);
            }
        }
        co_await sleep(delay);
    }
}

}  // namespace aio::http
