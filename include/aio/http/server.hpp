// Serving an App over HTTP/1.1: keep-alive, pipelining, limits, timeouts and graceful
// shutdown (uvicorn's server, aiohttp.web.run_app).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>

#include "aio/coro.hpp"
#include "aio/http/app.hpp"
#include "aio/net/tls.hpp"

namespace aio::http {

/// How the server listens and what it allows (uvicorn's settings). Trivially
/// destructible: pass it inline.
struct ServeOptions {
    std::string_view host = "127.0.0.1";  // "" listens on every interface
    std::uint16_t port = 8000;            // 0 picks a free port (HttpServer::port())
    int backlog = 1024;
    bool reuse_port = false;
    const SSLContext* ssl = nullptr;      // HTTPS with this server context
    std::size_t max_head_size = 16 * 1024;            // larger heads: 431
    std::size_t max_body_size = 1024 * 1024;          // larger bodies: 413
    std::chrono::milliseconds header_timeout = std::chrono::seconds(10);    // a head must arrive within: else 408
    std::chrono::milliseconds keepalive_timeout = std::chrono::seconds(5);  // an idle connection closes after
    std::optional<std::chrono::milliseconds> request_timeout = {};          // handler cancelled, 503
    std::size_t max_connections = 0;      // beyond it, new connections get 503 and close; 0: no limit
    std::chrono::milliseconds graceful_timeout = std::chrono::seconds(30);  // in-flight requests' grace at shutdown
    std::FILE* access_log = nullptr;      // one line per request when set
};
static_assert(std::is_trivially_destructible_v<ServeOptions>, "options structs must be trivially destructible (g++ 12)");

namespace detail {
struct HttpServerCore;
}

/// A running HTTP server. Move-only; destroying it closes it at once.
/// Thread-safety: loop-affine.
class HttpServer {
public:
    HttpServer() = default;
    HttpServer(HttpServer&&) noexcept;
    HttpServer& operator=(HttpServer&&) noexcept;
    ~HttpServer();

    [[nodiscard]] std::uint16_t port() const;
    /// Connections open now.
    [[nodiscard]] std::size_t connection_count() const noexcept;
    /// Graceful shutdown: stops taking requests, closes idle connections, lets in-flight
    /// requests finish (their connections then close) for up to `grace`, then cancels
    /// what is left and stops listening.
    /// Cancellation: Cancel-safe: cancelling it cancels the remaining requests at once.
    [[nodiscard]] Coro<> shutdown(std::optional<std::chrono::milliseconds> grace = {});
    /// Stops listening and cancels every connection now.
    void close();
    /// Waits until every connection has closed.
    /// Cancellation: Cancel-safe: the connections keep closing in the background.
    [[nodiscard]] Coro<> wait_closed();

    explicit HttpServer(std::shared_ptr<detail::HttpServerCore> core) noexcept;

private:
    std::shared_ptr<detail::HttpServerCore> core_;
};

/// Starts serving `app` (which must outlive the server) without running its lifespan
/// hooks: for tests and for embedding a server in a larger program.
/// Cancellation: Cancel-safe: if cancelled, nothing is left listening.
[[nodiscard]] Coro<HttpServer> start_http_server(App& app, ServeOptions options = {});

/// Runs `app`: startup hooks, then serving until cancelled, then graceful shutdown and the
/// shutdown hooks (uvicorn's lifespan). Returns normally after a cancellation that came
/// from a shutdown signal through run_app; otherwise CancelledError propagates after the
/// cleanup.
/// Cancellation: Cancel-safe: cancelling it is how serving ends; cleanup runs first.
[[nodiscard]] Coro<> serve(App& app, ServeOptions options = {});

/// `aio::run(serve(app, options))` with SIGTERM and SIGINT shutting down gracefully;
/// an access log on stdout unless one was given. Returns the process's exit status.
int run_app(App& app, ServeOptions options = {});

}  // namespace aio::http
