#include "aio/http/app.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace aio::http {

namespace {

using detail::Route;

std::vector<Route::Segment> compile(std::string_view pattern) {
    if (pattern.empty() || pattern.front() != '/') {
        throw ValueError(fmt::format("ValueError: route pattern '{}' must start with '/'", pattern));
    }
    std::vector<Route::Segment> segments;
    std::string_view rest = pattern.substr(1);
    while (true) {
        auto slash = rest.find('/');
        std::string_view seg = rest.substr(0, slash);
        if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
            std::string_view inner = seg.substr(1, seg.size() - 2);
            auto colon = inner.find(':');
            std::string_view name = inner.substr(0, colon);
            std::string_view type = colon == std::string_view::npos ? "str" : inner.substr(colon + 1);
            if (name.empty()) throw ValueError(fmt::format("ValueError: unnamed parameter in route '{}'", pattern));
            Route::Segment s{Route::Segment::kString, std::string(name)};
            if (type == "int") {
                s.kind = Route::Segment::kInt;
            } else if (type == "path") {
                s.kind = Route::Segment::kPath;
                if (slash != std::string_view::npos) {
                    throw ValueError(fmt::format("ValueError: '{{{}:path}}' must be the last segment of '{}'", name, pattern));
                }
            } else if (type != "str") {
                throw ValueError(fmt::format("ValueError: unknown parameter type '{}' in route '{}' (str, int, path)", type, pattern));
            }
            segments.push_back(std::move(s));
        } else {
            if (seg.find_first_of("{}") != std::string_view::npos) {
                throw ValueError(fmt::format("ValueError: malformed segment '{}' in route '{}'", seg, pattern));
            }
            segments.push_back({Route::Segment::kLiteral, std::string(seg)});
        }
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    return segments;
}

bool is_int(std::string_view s) {
    if (!s.empty() && s.front() == '-') s.remove_prefix(1);
    return !s.empty() && s.size() <= 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Matches `path` against `route`, filling `params`; returns a score (higher: more
// literal segments) or -1.
int match(const Route& route, std::string_view path, std::vector<std::pair<std::string_view, std::string>>& params) {
    params.clear();
    if (path.empty() || path.front() != '/') return -1;
    std::string_view rest = path.substr(1);
    int score = 0;
    for (std::size_t i = 0; i < route.segments.size(); ++i) {
        const auto& seg = route.segments[i];
        if (seg.kind == Route::Segment::kPath) {
            params.emplace_back(seg.text, std::string(rest));
            return score;
        }
        auto slash = rest.find('/');
        std::string_view part = rest.substr(0, slash);
        const bool last = i + 1 == route.segments.size();
        if (last != (slash == std::string_view::npos)) return -1;
        switch (seg.kind) {
        case Route::Segment::kLiteral:
            if (part != seg.text) return -1;
            score += 2;
            break;
        case Route::Segment::kInt:
            if (!is_int(part)) return -1;
            params.emplace_back(seg.text, std::string(part));
            score += 1;
            break;
        default:
            if (part.empty()) return -1;
            params.emplace_back(seg.text, std::string(part));
            break;
        }
        if (!last) rest.remove_prefix(slash + 1);
    }
    return score;
}

}  // namespace

void App::add_route(std::string_view method, std::string_view pattern, Handler handler) {
    if (!is_token(method)) throw ValueError(fmt::format("ValueError: invalid method '{}'", method));
    routes_.push_back({std::string(method), std::string(pattern), compile(pattern), std::move(handler)});
}

App& App::middleware(Middleware m) {
    middleware_.push_back(std::move(m));
    return *this;
}

App& App::on_startup(std::function<Coro<>()> hook) {
    startup_.push_back(std::move(hook));
    return *this;
}

App& App::on_shutdown(std::function<Coro<>()> hook) {
    shutdown_.push_back(std::move(hook));
    return *this;
}

void App::missing_state(const char* type) {
    throw KeyError(fmt::format("KeyError: no application state of type {} (call app.set_state first)", type));
}

Coro<> App::startup() {
    for (auto& hook : startup_) co_await hook();
}

Coro<> App::shutdown() {
    std::exception_ptr first;
    for (auto it = shutdown_.rbegin(); it != shutdown_.rend(); ++it) {
        try {
            co_await (*it)();
        } catch (const CancelledError&) {
            throw;
        } catch (...) {
            if (!first) first = std::current_exception();
        }
    }
    if (first) std::rethrow_exception(first);
}

Coro<Response> App::route_request(Request& req) const {
    const std::string_view method = req.method() == "HEAD" ? std::string_view("GET") : std::string_view(req.method());
    const Route* best = nullptr;
    int best_score = -1;
    std::vector<std::string> allowed;
    std::vector<std::pair<std::string_view, std::string>> params;
    for (const auto& route : routes_) {
        const int score = match(route, req.path(), params);
        if (score < 0) continue;
        if (route.method != method) {
            if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) allowed.push_back(route.method);
            continue;
        }
        if (score > best_score) {
            best = &route;
            best_score = score;
            req.params() = params;
        }
    }
    if (!best) {
        if (allowed.empty()) co_return HTTPException(404, "Not Found").response();
        if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end()) allowed.emplace_back("HEAD");
        std::string allow;
        for (const auto& m : allowed) {
            if (!allow.empty()) allow.append(", ");
            allow.append(m);
        }
        Headers h;
        h.add("Allow", allow);
        co_return HTTPException(405, "Method Not Allowed", h).response();
    }
    try {
        co_return co_await best->handler(req);
    } catch (const HTTPException& e) {
        co_return e.response();
    } catch (const nlohmann::json::out_of_range& e) {
        // A field the handler required is missing from the JSON body (FastAPI's 422).
        co_return HTTPException(422, fmt::format("Invalid request body: {}", e.what())).response();
    } catch (const nlohmann::json::type_error& e) {
        co_return HTTPException(422, fmt::format("Invalid request body: {}", e.what())).response();
    }
}

Coro<Response> App::dispatch(Request& req) const {
    // The chain: middleware_[0] ( middleware_[1] ( ... route_request ) ).
    struct Chain {
        const App* app;
        Coro<Response> call(std::size_t i, Request& r) const {
            if (i == app->middleware_.size()) co_return co_await app->route_request(r);
            Next next = [this, i](Request& inner) { return call(i + 1, inner); };
            Coro<Response> outer = app->middleware_[i](r, std::move(next));
            co_return co_await std::move(outer);
        }
    };
    Chain chain{this};
    try {
        co_return co_await chain.call(0, req);
    } catch (const HTTPException& e) {
        co_return e.response();
    }
}

}  // namespace aio::http
