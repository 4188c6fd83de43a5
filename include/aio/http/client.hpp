// The HTTP client: a session with a connection pool, and the response it returns
// (aiohttp.ClientSession and aiohttp.ClientResponse).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/async_generator.hpp"
#include "aio/coro.hpp"
#include "aio/detail/timers.hpp"
#include "aio/exceptions.hpp"
#include "aio/http/cookies.hpp"
#include "aio/http/headers.hpp"
#include "aio/http/url.hpp"
#include "aio/net/tls.hpp"

namespace aio::http {

// ---- Errors (aiohttp's tree); each message names the URL. ------------------------------

/// Base of every client error (aiohttp.ClientError).
class ClientError : public Error {
public:
    using Error::Error;
};
/// The connection could not be made or was lost (aiohttp.ClientConnectionError).
class ClientConnectionError : public ClientError {
public:
    using ClientError::ClientError;
};
/// Connecting failed: DNS, refused, unreachable (aiohttp.ClientConnectorError).
class ClientConnectorError : public ClientConnectionError {
public:
    using ClientConnectionError::ClientConnectionError;
};
/// TLS failed while connecting (aiohttp.ClientSSLError).
class ClientSSLError : public ClientConnectorError {
public:
    using ClientConnectorError::ClientConnectorError;
};
/// The server's certificate did not verify (aiohttp.ClientConnectorCertificateError).
class ClientConnectorCertificateError : public ClientSSLError {
public:
    using ClientSSLError::ClientSSLError;
};
/// The server closed the connection without answering (aiohttp.ServerDisconnectedError).
class ServerDisconnectedError : public ClientConnectionError {
public:
    using ClientConnectionError::ClientConnectionError;
};
/// A connect or read timeout fired (aiohttp.ServerTimeoutError). Unlike aiohttp's, it is
/// not a ClientError: C++ cannot make it both that and an aio::TimeoutError, and catching
/// every timeout as aio::TimeoutError matters more. The total timeout raises
/// aio::TimeoutError itself, as aiohttp raises asyncio.TimeoutError.
class ServerTimeoutError : public TimeoutError {
public:
    using TimeoutError::TimeoutError;
};
/// Connecting (or waiting for a pooled connection) took too long
/// (aiohttp.ConnectionTimeoutError).
class ConnectionTimeoutError : public ServerTimeoutError {
public:
    using ServerTimeoutError::ServerTimeoutError;
};
/// No data arrived within sock_read (aiohttp.SocketTimeoutError).
class SocketTimeoutError : public ServerTimeoutError {
public:
    using ServerTimeoutError::ServerTimeoutError;
};
/// The body was malformed or cut short (aiohttp.ClientPayloadError).
class ClientPayloadError : public ClientError {
public:
    using ClientError::ClientError;
};
/// A response with an error status, from raise_for_status() (aiohttp.ClientResponseError).
class ClientResponseError : public ClientError {
public:
    ClientResponseError(int status, std::string reason, std::string url, std::optional<std::chrono::seconds> retry_after = {});
    [[nodiscard]] int status() const noexcept { return status_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
    [[nodiscard]] const std::string& url() const noexcept { return url_; }
    /// The response's Retry-After (in seconds), when it had one.
    [[nodiscard]] std::optional<std::chrono::seconds> retry_after() const noexcept { return retry_after_; }

private:
    int status_;
    std::string reason_, url_;
    std::optional<std::chrono::seconds> retry_after_;
};
/// More redirects than allowed (aiohttp.TooManyRedirects).
class TooManyRedirects : public ClientResponseError {
public:
    using ClientResponseError::ClientResponseError;
};

// ---- Options ------------------------------------------------------------------------------

/// Which timeout fired is in the message: "total", "connect" or "sock_read".
/// Thread-safety: a plain value type.
struct ClientTimeout {
    /// The whole request, from acquiring a connection to the end of the body.
    std::optional<std::chrono::milliseconds> total = {};
    /// Getting a connection: waiting for the pool and connecting (with TLS).
    std::optional<std::chrono::milliseconds> connect = {};
    /// Between two reads from the socket.
    std::optional<std::chrono::milliseconds> sock_read = {};
};

using FieldList = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// Per-request options. Trivially destructible, so they may be written inline in a
/// co_await (`co_await session.get(url, {.json = &body})`); the views must stay valid until
/// the request has been sent. g++ 12 refuses a braced list inside a co_await ("array used
/// as initializer"): build options holding lists in a named local first,
/// `RequestOptions opts{.params = {{"q", "x"}}}; co_await session.get(url, opts);`.
struct RequestOptions {
    FieldList params = {};             // appended to the URL's query
    FieldList headers = {};            // added to (and overriding) the session's
    const Headers* header_map = nullptr;
    FieldList cookies = {};            // sent besides the jar's; a jar cookie of the same name is left out
    const nlohmann::json* json = nullptr;  // body as application/json
    std::optional<std::string_view> data = {};  // raw body
    FieldList form = {};               // body as application/x-www-form-urlencoded
    AsyncGenerator<std::string>* stream = nullptr;  // body sent chunked as it is generated
    std::optional<std::pair<std::string_view, std::string_view>> auth = {};  // basic auth
    std::optional<bool> allow_redirects = {};
    std::optional<int> max_redirects = {};
    std::optional<ClientTimeout> timeout = {};  // replaces the session's
};
static_assert(std::is_trivially_destructible_v<RequestOptions>, "options structs must be trivially destructible (g++ 12)");

/// Session-wide settings (aiohttp's ClientSession and TCPConnector arguments).
struct SessionOptions {
    std::size_t limit = 100;           // connections in use at once, all hosts
    std::size_t limit_per_host = 0;    // per (scheme, host, port); 0: no limit
    ClientTimeout timeout = {.total = std::chrono::minutes(5), .connect = {}, .sock_read = {}};
    std::chrono::milliseconds keepalive_timeout = std::chrono::seconds(15);  // idle connections close after
    FieldList headers = {};            // sent with every request (copied)
    const SSLContext* ssl = nullptr;   // HTTPS context; default: verifying, system CAs
    bool verify_ssl = true;            // false: no certificate checks (aiohttp's ssl=False)
    bool auto_decompress = true;       // gzip/deflate bodies are decoded
    int max_redirects = 10;
    bool raise_for_status = false;     // every response with status >= 400 raises
    bool use_cookie_jar = true;        // false: no cookies kept or sent (aiohttp's DummyCookieJar)
    /// How long a host's addresses are reused for new connections (aiohttp's
    /// ttl_dns_cache); nullopt resolves for every connection (use_dns_cache=False).
    std::optional<std::chrono::milliseconds> ttl_dns_cache = std::chrono::seconds(10);
    CookieJar* cookie_jar = nullptr;   // a jar to use (and share) instead of the session's own; must outlive it
};
static_assert(std::is_trivially_destructible_v<SessionOptions>, "options structs must be trivially destructible (g++ 12)");

namespace detail {
struct PoolState;
struct ResponseState;
}  // namespace detail

/// One redirect that led to the final response.
struct Redirect {
    int status = 0;
    URL url;
};

/// A response whose head has arrived; its body is read on demand (aiohttp's
/// ClientResponse). It holds its connection until the body is read to the end (then the
/// connection goes back to the pool) or the response is released or destroyed (then an
/// unfinished connection is closed, never reused). Move-only; must not outlive its session.
/// Thread-safety: loop-affine.
class ClientResponse {
public:
    ClientResponse() = default;
    ClientResponse(ClientResponse&&) noexcept;
    ClientResponse& operator=(ClientResponse&&) noexcept;
    ~ClientResponse();

    [[nodiscard]] int status() const noexcept;
    [[nodiscard]] std::string_view reason() const noexcept;
    [[nodiscard]] const Headers& headers() const noexcept;
    /// The final URL, after redirects.
    [[nodiscard]] const URL& url() const noexcept;
    [[nodiscard]] std::string_view method() const noexcept;
    /// The redirects followed to get here, oldest first.
    [[nodiscard]] const std::vector<Redirect>& history() const noexcept;
    /// status < 400.
    [[nodiscard]] bool ok() const noexcept { return status() < 400; }
    /// Content-Type without parameters ("text/html").
    [[nodiscard]] std::string_view content_type() const noexcept;
    /// The charset parameter of Content-Type, if any.
    [[nodiscard]] std::optional<std::string_view> charset() const noexcept;
    /// Throws ClientResponseError (status, reason, URL) when status >= 400.
    void raise_for_status() const;

    /// The whole body, decompressed; later calls return it again.
    /// Cancellation: Not cancel-safe: a cancelled read closes the connection and the body
    /// cannot be read again.
    [[nodiscard]] Coro<std::string> read();
    /// The body as UTF-8 text: UTF-8 as it is, ISO-8859-1/latin-1 converted.
    /// Cancellation: Not cancel-safe: as read().
    [[nodiscard]] Coro<std::string> text();
    /// The body parsed as JSON; ClientPayloadError (with the URL) when it is not JSON.
    /// Cancellation: Not cancel-safe: as read().
    [[nodiscard]] Coro<nlohmann::json> json();
    /// The next piece of the body (decompressed), at most about `max` bytes; empty at the
    /// end (aiohttp's resp.content.read(n)).
    /// Cancellation: Cancel-safe: if cancelled, no body byte is lost.
    [[nodiscard]] Coro<std::string> read_chunk(std::size_t max = 64 * 1024);
    /// Gives the connection back now: to the pool if the body was read to the end,
    /// otherwise it is closed.
    void release() noexcept;

    explicit ClientResponse(std::unique_ptr<detail::ResponseState> state) noexcept;

private:
    std::unique_ptr<detail::ResponseState> state_;
};

/// A client session (aiohttp.ClientSession): default headers and timeouts, a pool of
/// keep-alive connections per (scheme, host, port), and a cookie jar.
///
/// Cookies: every response's Set-Cookie headers, redirects' included, go into the jar, and
/// every request (each redirect hop too) carries the jar's cookies for its URL in a Cookie
/// header, after the value of a Cookie header the caller gave and before the request's
/// `cookies`. The caller's Cookie header and `cookies` are dropped when a redirect leads
/// to another origin, as Authorization is; the jar's cookies follow their own domains.
/// Thread-safety: loop-affine.
class ClientSession {
public:
    explicit ClientSession(SessionOptions options = {});
    ~ClientSession();  // closes idle connections
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;

    /// Sends a request and returns the response once its head has arrived. Follows
    /// redirects (301/302/303 turn into GET without body, except GET/HEAD; 307/308 keep
    /// method and body; Authorization is dropped when the origin changes). A `stream`
    /// body is sent chunked, each piece as the generator yields it (aiohttp's
    /// `data=async_generator`); it cannot be sent twice, so a 307/308 redirect of such a
    /// request raises ClientError, and a stale pooled connection is not retried once the
    /// generator has started.
    /// Cancellation: Cancel-safe: if cancelled, the connection in use is closed, never
    /// returned to the pool half-used.
    [[nodiscard]] Coro<ClientResponse> request(std::string_view method, std::string_view url, RequestOptions options = {});
    /// request("GET", ...).
    /// Cancellation: Cancel-safe: as request().
    [[nodiscard]] Coro<ClientResponse> get(std::string_view url, RequestOptions options = {});
    /// Cancellation: Cancel-safe: as request().
    [[nodiscard]] Coro<ClientResponse> get(const URL& url, RequestOptions options = {});
    /// Cancellation: Cancel-safe: as request().
    [[nodiscard]] Coro<ClientResponse> post(std::string_view url, RequestOptions options = {});
    /// Cancellation: Cancel-safe: as request().
    [[nodiscard]] Coro<ClientResponse> put(std::string_view url, RequestOptions options = {});
    /// Cancellation: Cancel-safe: as request().
    [[nodiscard]] Coro<ClientResponse> patch(std::string_view url, RequestOptions options = {});
    /// Cancellation: Cancel-safe: as request().
    [[nodiscard]] Coro<ClientResponse> delete_(std::string_view url, RequestOptions options = {});
    /// Cancellation: Cancel-safe: as request().
    [[nodiscard]] Coro<ClientResponse> head(std::string_view url, RequestOptions options = {});
    /// Cancellation: Cancel-safe: as request().
    [[nodiscard]] Coro<ClientResponse> options(std::string_view url, RequestOptions options = {});

    /// Closes every idle connection; connections still held by responses close when
    /// those are done. Later requests raise RuntimeError.
    /// Cancellation: Cancel-safe: closing is immediate.
    [[nodiscard]] Coro<> close();
    [[nodiscard]] bool closed() const noexcept;
    /// Idle keep-alive connections in the pool (for tests and monitoring).
    [[nodiscard]] std::size_t idle_connections() const noexcept;
    [[nodiscard]] const Headers& default_headers() const noexcept;
    /// Forgets the cached addresses of `host`, or of every host when empty (aiohttp's
    /// connector.clear_dns_cache()). A failed connection forgets its host by itself.
    void clear_dns_cache(std::string_view host = {});
    /// The session's cookies (aiohttp's session.cookie_jar): SessionOptions::cookie_jar when
    /// given, else its own. With use_cookie_jar false requests neither read nor fill it.
    [[nodiscard]] CookieJar& cookie_jar() noexcept { return options_.cookie_jar ? *options_.cookie_jar : jar_; }
    [[nodiscard]] const CookieJar& cookie_jar() const noexcept { return options_.cookie_jar ? *options_.cookie_jar : jar_; }

private:
    /// One exchange on a pooled connection, retried once on a stale one.
    /// Cancellation: Cancel-safe: the connection in use is closed.
    Coro<ClientResponse> send_once(std::string_view method, const URL& url, const Headers& headers,
                                   const std::string* body, AsyncGenerator<std::string>* stream, const ClientTimeout& timeout,
                                   std::optional<Clock::time_point> deadline, std::vector<Redirect>& history);

    SessionOptions options_;
    Headers headers_;
    CookieJar jar_;
    std::shared_ptr<detail::PoolState> pool_;
};

}  // namespace aio::http
