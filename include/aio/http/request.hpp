// An incoming request as handlers see it (aiohttp.web.Request, Starlette's Request).
#pragma once

#include <charconv>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/http/parser.hpp"
#include "aio/http/response.hpp"
#include "aio/http/url.hpp"

namespace aio::http {

class App;
class BodyReader;

/// One request: its head, its path parameters and its body, read on demand.
/// Thread-safety: loop-affine; a plain handler (run on a worker thread) may read it but
/// only body() for the body, which was read before the handler started.
class Request {
public:
    Request(RequestHead head, App& app, BodyReader* body, std::string remote, std::size_t max_body);
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    [[nodiscard]] const std::string& method() const noexcept { return head_.method; }
    /// The target as sent ("/a%20b?x=1").
    [[nodiscard]] const std::string& target() const noexcept { return head_.target; }
    /// The decoded path ("/a b").
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    /// The raw query string, without "?".
    [[nodiscard]] std::string_view query_string() const noexcept { return query_string_; }
    /// The first value of query parameter `name`.
    [[nodiscard]] std::optional<std::string_view> query(std::string_view name) const;
    /// Every value of query parameter `name`.
    [[nodiscard]] std::vector<std::string_view> query_all(std::string_view name) const;
    [[nodiscard]] const QueryItems& query_params() const;
    [[nodiscard]] const Headers& headers() const noexcept { return head_.headers; }
    /// The value of cookie `name` from the Cookie header.
    [[nodiscard]] std::optional<std::string_view> cookie(std::string_view name) const;
    /// 11 for HTTP/1.1, 10 for HTTP/1.0.
    [[nodiscard]] int version() const noexcept { return head_.version; }
    [[nodiscard]] bool keep_alive() const noexcept { return head_.keep_alive(); }
    /// The peer's address as "host:port".
    [[nodiscard]] const std::string& remote() const noexcept { return remote_; }
    [[nodiscard]] App& app() const noexcept { return *app_; }

    /// A path parameter as text; throws KeyError when the route has no such parameter.
    [[nodiscard]] std::string_view path_param(std::string_view name) const;
    /// A path parameter converted to T (an integer, floating-point or string type);
    /// answers 422 (HTTPException) when it does not convert.
    template <class T>
    [[nodiscard]] T path_param(std::string_view name) const {
        std::string_view text = path_param(name);
        if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
            return T(text);
        } else {
            T value{};
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec != std::errc() || end != text.data() + text.size()) bad_param(name, text);
            return value;
        }
    }

    /// The whole body (at most the server's max body size, else 413).
    /// Cancellation: Not cancel-safe: a cancelled read leaves the body partly read; the
    /// server then closes the connection.
    [[nodiscard]] Coro<std::string> read();
    /// The body as text.
    /// Cancellation: Not cancel-safe: as read().
    [[nodiscard]] Coro<std::string> text();
    /// The body parsed as JSON; answers 400 with the parser's message when it is not JSON.
    /// Cancellation: Not cancel-safe: as read().
    [[nodiscard]] Coro<nlohmann::json> json();
    /// The next piece of the body; empty at its end (streamed uploads).
    /// Cancellation: Cancel-safe: no body byte is lost.
    [[nodiscard]] Coro<std::string> read_chunk(std::size_t max = 64 * 1024);
    /// The body read before a plain handler started (empty for coroutine handlers that
    /// did not call read()).
    [[nodiscard]] const std::string& body() const noexcept { return body_; }

    /// Runs `task` after the response has been sent (Starlette's BackgroundTasks).
    void add_background_task(std::function<Coro<>()> task) { background_.push_back(std::move(task)); }

    // Used by the server and the router.
    std::vector<std::pair<std::string_view, std::string>>& params() noexcept { return params_; }
    std::vector<std::function<Coro<>()>>& background_tasks() noexcept { return background_; }
    BodyReader* body_reader() noexcept { return body_reader_; }

private:
    [[noreturn]] static void bad_param(std::string_view name, std::string_view text);

    RequestHead head_;
    App* app_;
    BodyReader* body_reader_;
    std::string remote_;
    std::size_t max_body_;
    std::string path_;
    std::string_view query_string_;
    mutable std::optional<QueryItems> query_;
    std::vector<std::pair<std::string_view, std::string>> params_;
    std::string body_;
    bool body_read_ = false;
    std::vector<std::function<Coro<>()>> background_;
};

}  // namespace aio::http
