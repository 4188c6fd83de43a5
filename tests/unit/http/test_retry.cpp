#include "aio/http/retry.hpp"

#include "aio/http/server.hpp"
#include "aio/tasks.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;
using aio::http::RetryOptions;

namespace {

constexpr RetryOptions kNoJitter{.attempts = 4, .initial_delay = 100ms, .factor = 2.0, .max_delay = 1s, .jitter = false};

// Fails with `error` the first `failures` times, then returns the attempt number.
struct Flaky {
    int* calls;
    int failures;
    std::exception_ptr error;
    aio::Coro<int> operator()() const {
        const int n = ++*calls;
        if (n <= failures) std::rethrow_exception(error);
        co_return n;
    }
};

template <class E>
std::exception_ptr make(E e) {
    return std::make_exception_ptr(std::move(e));
}

}  // namespace

TEST(Retry, BackoffGrowsByTheFactorUpToTheCapAndJittersBelowIt) {
    EXPECT_EQ(aio::http::backoff_delay(kNoJitter, 1), 100ms);
    EXPECT_EQ(aio::http::backoff_delay(kNoJitter, 2), 200ms);
    EXPECT_EQ(aio::http::backoff_delay(kNoJitter, 3), 400ms);
    EXPECT_EQ(aio::http::backoff_delay(kNoJitter, 5), 1s);  // capped
    EXPECT_EQ(aio::http::backoff_delay(kNoJitter, 60), 1s);
    RetryOptions jittered = kNoJitter;
    jittered.jitter = true;
    aio::Clock::duration low = 1h, high = 0s;
    for (int i = 0; i < 1000; ++i) {
        const auto d = aio::http::backoff_delay(jittered, 3);
        EXPECT_GE(d, 0s);
        EXPECT_LE(d, 400ms);
        low = std::min(low, d);
        high = std::max(high, d);
    }
    EXPECT_LT(low, 100ms);  // spread over the whole interval
    EXPECT_GT(high, 300ms);
}

AIO_TEST(Retry, ConnectionErrorsAndTimeoutsAreRetriedWithBackoff) {
    int calls = 0;
    const auto start = loop.now();
    Flaky flaky{&calls, 3, make(aio::http::ServerDisconnectedError("server disconnected: http://x/"))};
    EXPECT_EQ(co_await aio::http::retry(flaky, kNoJitter), 4);
    EXPECT_EQ(calls, 4);
    EXPECT_EQ(loop.now() - start, 700ms);  // 100 + 200 + 400

    calls = 0;
    Flaky slow{&calls, 1, make(aio::http::SocketTimeoutError("sock_read timeout (1s) on http://x/"))};
    EXPECT_EQ(co_await aio::http::retry(slow, kNoJitter), 2);
    calls = 0;
    Flaky total{&calls, 2, make(aio::TimeoutError("total timeout"))};
    EXPECT_EQ(co_await aio::http::retry(total, kNoJitter), 3);
}

AIO_TEST(Retry, TheLastErrorIsRaisedWhenAttemptsRunOut) {
    int calls = 0;
    Flaky down{&calls, 100, make(aio::http::ClientConnectorError("cannot connect to http://x/: refused"))};
    bool raised = false;
    try {
        (void)co_await aio::http::retry(down, {.attempts = 3, .initial_delay = 10ms});
    } catch (const aio::http::ClientConnectorError& e) {
        raised = std::string(e.what()).find("refused") != std::string::npos;
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(calls, 3);
}

AIO_TEST(Retry, OtherErrorsPropagateAtOnce) {
    const std::exception_ptr not_retried[] = {
        make(aio::ValueError("ValueError: bad URL")),
        make(aio::http::ClientConnectorCertificateError("certificate verify failed for https://x/")),
        make(aio::http::ClientResponseError(404, "Not Found", "http://x/")),
        make(aio::http::ClientPayloadError("body cut short")),
    };
    for (const auto& error : not_retried) {
        int calls = 0;
        bool raised = false;
        const Flaky failing{&calls, 100, error};  // named: g++ 12 destroys an aggregate temporary in co_await twice
        try {
            (void)co_await aio::http::retry(failing, kNoJitter);
        } catch (const aio::Error&) {
            raised = true;
        }
        EXPECT_TRUE(raised);
        EXPECT_EQ(calls, 1);
    }
}

AIO_TEST(Retry, AnErrorStatusWaitsForItsRetryAfter) {
    int calls = 0;
    const auto start = loop.now();
    Flaky busy{&calls, 1, make(aio::http::ClientResponseError(503, "Service Unavailable", "http://x/", 3s))};
    RetryOptions options = kNoJitter;
    options.max_delay = 1min;
    EXPECT_EQ(co_await aio::http::retry(busy, options), 2);
    EXPECT_EQ(loop.now() - start, 3s);
    // Capped at max_delay.
    calls = 0;
    const auto again = loop.now();
    Flaky long_wait{&calls, 1, make(aio::http::ClientResponseError(429, "Too Many Requests", "http://x/", 1h))};
    EXPECT_EQ(co_await aio::http::retry(long_wait, options), 2);
    EXPECT_EQ(loop.now() - again, 1min);
}

AIO_TEST(Retry, NoRetryIsStartedThatCannotFinishBeforeTheDeadline) {
    int calls = 0;
    Flaky down{&calls, 100, make(aio::http::ServerDisconnectedError("server disconnected: http://x/"))};
    bool disconnected = false;
    const auto start = loop.now();
    try {
        co_await aio::timeout(250ms, [&]() -> aio::Coro<> { (void)co_await aio::http::retry(down, kNoJitter); });
    } catch (const aio::http::ServerDisconnectedError&) {
        disconnected = true;  // the real error, not a TimeoutError after a pointless wait
    }
    EXPECT_TRUE(disconnected);
    EXPECT_EQ(calls, 2);  // after 100 ms the second; 200 ms more would pass the deadline
    EXPECT_EQ(loop.now() - start, 100ms);
}

AIO_TEST(Retry, CancellingStopsTheDelay) {
    int calls = 0;
    Flaky down{&calls, 100, make(aio::http::ServerDisconnectedError("server disconnected: http://x/"))};
    auto task = aio::create_task(aio::http::retry(down, kNoJitter));
    co_await aio::sleep(150ms);
    task.cancel();
    bool cancelled = false;
    try {
        (void)co_await task;
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(calls, 2);
}

AIO_REAL_TEST(Retry, ResponsesWithRetryableStatusesAreRetried) {
    int hits = 0;
    aio::http::App app;
    app.get("/flaky", [&hits](aio::http::Request&) -> aio::Coro<aio::http::Response> {
        if (++hits <= 2) {
            aio::http::Response busy = aio::http::Response::json({{"detail", "busy"}}, 503);
            busy.headers().add("Retry-After", "0");
            co_return busy;
        }
        co_return aio::http::Response::text("ok");
    });
    app.get("/missing", [&hits](aio::http::Request&) -> aio::Coro<aio::http::Response> {
        ++hits;
        co_return aio::http::Response::text("no", 404);
    });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    const std::string flaky = base + "/flaky", missing = base + "/missing";
    aio::http::ClientSession session;
    const RetryOptions quick{.attempts = 3, .initial_delay = 1ms};
    {
        auto resp = co_await aio::http::retry([&] { return session.get(flaky); }, quick);
        EXPECT_EQ(resp.status(), 200);
        EXPECT_EQ(co_await resp.text(), "ok");
        EXPECT_EQ(hits, 3);
    }
    EXPECT_EQ(server.connection_count(), 1u);  // the 503s' connections went back to the pool
    hits = 0;
    {
        // Attempts run out: the last response comes back for the caller to judge.
        auto resp = co_await aio::http::retry([&] { return session.get(flaky); }, {.attempts = 2});
        EXPECT_EQ(resp.status(), 503);
        EXPECT_EQ(hits, 2);
    }
    hits = 0;
    {
        auto resp = co_await aio::http::retry([&] { return session.get(missing); }, quick);
        EXPECT_EQ(resp.status(), 404);  // not a retryable status
        EXPECT_EQ(hits, 1);
    }
    co_await session.close();
    server.close();
    co_await server.wait_closed();
}
