#include "aio/http/response.hpp"

#include <fmt/format.h>

#include "aio/http/wire.hpp"

namespace aio::http {

namespace {

bool cookie_safe(std::string_view s, bool value) {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\') return false;
        if (!value && (c == '=' || c == '(' || c == ')' || c == '/' || c == ':' || c == '?' || c == '@' || c == '[' ||
                       c == ']' || c == '{' || c == '}' || c == '<' || c == '>')) {
            return false;
        }
    }
    return !s.empty() || value;
}

}  // namespace

Response::Response(int status, std::string body, std::string_view content_type) : status_(status), body_(std::move(body)) {
    if (!content_type.empty()) headers_.add("Content-Type", content_type);
}

Response Response::json(const nlohmann::json& json, int status) {
    return Response(status, json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

Response Response::text(std::string body, int status) { return Response(status, std::move(body)); }

Response Response::html(std::string body, int status) {
    return Response(status, std::move(body), "text/html; charset=utf-8");
}

Response Response::stream(AsyncGenerator<std::string> body, std::string_view content_type, int status) {
    Response r(status, {}, content_type);
    r.stream_ = std::make_shared<AsyncGenerator<std::string>>(std::move(body));
    return r;
}

Response Response::file(std::string path, int status) {
    if (path.empty()) throw ValueError("ValueError: Response::file() needs a path");
    Response r(status, {}, {});
    r.file_ = std::move(path);
    return r;
}

Response Response::redirect(std::string_view location, int status) {
    Response r(status, {}, {});
    r.headers().add("Location", location);
    return r;
}

void Response::set_cookie(std::string_view name, std::string_view value, CookieOptions o) {
    if (!cookie_safe(name, false)) throw ValueError(fmt::format("ValueError: invalid cookie name '{}'", name));
    if (!cookie_safe(value, true)) {
        throw ValueError(fmt::format("ValueError: cookie '{}' has a value with characters a cookie cannot hold", name));
    }
    std::string c = fmt::format("{}={}", name, value);
    if (o.max_age) c += fmt::format("; Max-Age={}", *o.max_age);
    if (!o.path.empty()) c += fmt::format("; Path={}", o.path);
    if (!o.domain.empty()) c += fmt::format("; Domain={}", o.domain);
    if (o.secure) c += "; Secure";
    if (o.http_only) c += "; HttpOnly";
    if (!o.same_site.empty()) c += fmt::format("; SameSite={}", o.same_site);
    headers_.add("Set-Cookie", c);
}

void Response::delete_cookie(std::string_view name, std::string_view path) {
    set_cookie(name, "", {.max_age = 0, .path = path, .domain = {}, .secure = false, .http_only = true, .same_site = {}});
}

HTTPException::HTTPException(int status, std::string detail, Headers headers)
    : Error(fmt::format("HTTPException: {} {}", status, detail)),
      status_(status),
      detail_(std::move(detail)),
      headers_(std::move(headers)) {}

Response HTTPException::response() const {
    Response r = Response::json(nlohmann::json{{"detail", detail_}}, status_);
    for (const auto& [k, v] : headers_) r.headers().add(k, v);
    return r;
}

}  // namespace aio::http
