// The web application: routes, middleware, lifespan hooks and state (aiohttp.web.Application,
// FastAPI's app).
#pragma once

#include <any>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "aio/coro.hpp"
#include "aio/executor.hpp"
#include "aio/http/request.hpp"
#include "aio/http/response.hpp"

namespace aio::http {

/// A request handler after adaptation: every handler shape becomes this.
using Handler = std::function<Coro<Response>(Request&)>;
/// Calls the rest of the middleware chain and the handler.
using Next = std::function<Coro<Response>(Request&)>;
/// `Coro<Response>(Request&, Next)`: may act before and after `next`, or answer itself.
using Middleware = std::function<Coro<Response>(Request&, Next)>;

namespace detail {
template <class T>
struct is_coro : std::false_type {};
template <class T>
struct is_coro<Coro<T>> : std::true_type {
    using value_type = T;
};

inline Response to_response(Response r) { return r; }
inline Response to_response(const nlohmann::json& j) { return Response::json(j); }
inline Response to_response(std::string s) { return Response::text(std::move(s)); }

/// One route: a method and a pattern of literal and parameter segments.
struct Route {
    std::string method;
    std::string pattern;
    struct Segment {
        enum Kind : std::uint8_t { kLiteral, kString, kInt, kPath } kind;
        std::string text;  // the literal, or the parameter's name
    };
    std::vector<Segment> segments;
    Handler handler;
};
}  // namespace detail

/// Options of App::add_static (trivially destructible: pass inline).
struct StaticOptions {
    /// Served for a directory (empty: directories are 404). A directory asked for without
    /// its trailing slash is redirected (301) to it, so relative links in the page work.
    std::string_view index = "index.html";
    /// false: a symlink leading out of the directory is 404 (aiohttp's default).
    bool follow_symlinks = false;
};
static_assert(std::is_trivially_destructible_v<StaticOptions>, "options structs must be trivially destructible (g++ 12)");

/// An application: `app.get("/users/{id:int}", handler)`, middleware, startup and
/// shutdown hooks, shared state. Handlers take `Request&` and return `Coro<Response>`,
/// `Coro<nlohmann::json>` (200, application/json) or `Coro<std::string>` (200,
/// text/plain); a plain (non-coroutine) handler returning one of those runs on the
/// default thread pool, so it cannot block the loop (FastAPI's `def` endpoints).
///
/// Path patterns: literal segments and `{name}` (one segment), `{name:int}` (digits, an
/// optional minus) and `{name:path}` (the rest of the path, slashes included). A path
/// matching no route is 404; one matching only other methods is 405 with `Allow`; HEAD
/// is served by GET routes. Routes whose segments are all literal win over patterns.
/// Thread-safety: configure before serving; then loop-affine.
class App {
public:
    App() = default;
    App(App&&) noexcept = default;
    App& operator=(App&&) noexcept = default;

    template <class F>
    App& route(std::string_view method, std::string_view pattern, F handler) {
        add_route(method, pattern, adapt(std::move(handler)));
        return *this;
    }
    template <class F>
    App& get(std::string_view pattern, F h) { return route("GET", pattern, std::move(h)); }
    template <class F>
    App& post(std::string_view pattern, F h) { return route("POST", pattern, std::move(h)); }
    template <class F>
    App& put(std::string_view pattern, F h) { return route("PUT", pattern, std::move(h)); }
    template <class F>
    App& patch(std::string_view pattern, F h) { return route("PATCH", pattern, std::move(h)); }
    template <class F>
    App& delete_(std::string_view pattern, F h) { return route("DELETE", pattern, std::move(h)); }

    /// Serves the files under `directory` at `prefix` ("/static": GET /static/css/a.css
    /// sends directory/css/a.css), as Response::file() sends them (ETag, ranges, 304,
    /// sendfile). Paths with "." or ".." segments are 404 (aiohttp's add_static,
    /// Starlette's StaticFiles). Throws ValueError when `directory` is not a directory.
    App& add_static(std::string_view prefix, std::string_view directory, StaticOptions options = {});

    /// Adds a middleware; the first added is the outermost.
    App& middleware(Middleware m);
    /// Runs before the server accepts its first connection; an exception aborts start-up.
    App& on_startup(std::function<Coro<>()> hook);
    /// Runs after the last connection closed, in reverse order of registration.
    App& on_shutdown(std::function<Coro<>()> hook);

    /// Application state, one value per type (FastAPI's app.state): `app.set_state(Cache{})`
    /// then `req.app().state<Cache>()`. Throws KeyError when no value of that type was set.
    template <class T>
    T& set_state(T value) {
        auto& slot = state_[std::type_index(typeid(T))];
        slot = std::make_shared<T>(std::move(value));
        return *std::static_pointer_cast<T>(slot);
    }
    template <class T>
    [[nodiscard]] T& state() const {
        auto it = state_.find(std::type_index(typeid(T)));
        if (it == state_.end()) missing_state(typeid(T).name());
        return *std::static_pointer_cast<T>(it->second);
    }

    /// Routes `req` through the middleware to its handler (or to 404/405) and returns the
    /// response. HTTPException becomes its JSON response; other exceptions propagate.
    /// Cancellation: Cancel-safe: cancelling cancels the handler.
    [[nodiscard]] Coro<Response> dispatch(Request& req) const;
    /// Runs the startup hooks in order.
    /// Cancellation: Not cancel-safe: hooks already run are not undone.
    [[nodiscard]] Coro<> startup();
    /// Runs the shutdown hooks in reverse order; every hook runs even if one throws (the
    /// first error is rethrown at the end).
    /// Cancellation: Not cancel-safe: the remaining hooks do not run.
    [[nodiscard]] Coro<> shutdown();

private:
    template <class F>
    static Handler adapt(F f) {
        using R = std::invoke_result_t<F&, Request&>;
        if constexpr (detail::is_coro<R>::value) {
            return [f = std::move(f)](Request& req) -> Coro<Response> {
                auto result = co_await f(req);
                co_return detail::to_response(std::move(result));
            };
        } else {
            // A plain function: read the body first, then run it off the loop.
            return [f = std::move(f)](Request& req) -> Coro<Response> {
                (void)co_await req.read();
                auto result = co_await to_thread([&f, &req] { return f(req); });
                co_return detail::to_response(std::move(result));
            };
        }
    }

    void add_route(std::string_view method, std::string_view pattern, Handler handler);
    /// Finds the route and runs its handler (or answers 404/405).
    /// Cancellation: Cancel-safe: cancelling cancels the handler.
    Coro<Response> route_request(Request& req) const;
    [[noreturn]] static void missing_state(const char* type);

    std::vector<detail::Route> routes_;
    std::vector<Middleware> middleware_;
    std::vector<std::function<Coro<>()>> startup_, shutdown_;
    std::unordered_map<std::type_index, std::shared_ptr<void>> state_;
};

}  // namespace aio::http
