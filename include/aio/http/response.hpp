// What a handler returns: a status, headers and a body (aiohttp.web.Response, Starlette's
// Response/JSONResponse), and HTTPException for error answers (FastAPI's).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "aio/exceptions.hpp"
#include "aio/http/headers.hpp"

namespace aio::http {

/// Options of Response::set_cookie (trivially destructible: pass inline).
struct CookieOptions {
    std::optional<long> max_age = {};  // seconds
    std::string_view path = "/";
    std::string_view domain = {};
    bool secure = false;
    bool http_only = true;
    std::string_view same_site = "Lax";  // "Strict", "Lax", "None" or empty
};

/// An HTTP response. Plain value type; handlers build and return it.
/// Thread-safety: a plain value type.
class Response {
public:
    Response() = default;
    explicit Response(int status, std::string body = {}, std::string_view content_type = "text/plain; charset=utf-8");

    /// `json` serialised, Content-Type application/json (FastAPI's JSONResponse).
    static Response json(const nlohmann::json& json, int status = 200);
    static Response text(std::string body, int status = 200);
    static Response html(std::string body, int status = 200);
    /// A redirect to `location` (302 Found unless `status` says otherwise).
    static Response redirect(std::string_view location, int status = 302);

    [[nodiscard]] int status() const noexcept { return status_; }
    void set_status(int status) noexcept { status_ = status; }
    [[nodiscard]] Headers& headers() noexcept { return headers_; }
    [[nodiscard]] const Headers& headers() const noexcept { return headers_; }
    [[nodiscard]] const std::string& body() const noexcept { return body_; }
    void set_body(std::string body) noexcept { body_ = std::move(body); }
    /// Adds a Set-Cookie header; refuses names and values that are not cookie-safe.
    void set_cookie(std::string_view name, std::string_view value, CookieOptions options = {});
    /// Adds a Set-Cookie header that expires `name` now.
    void delete_cookie(std::string_view name, std::string_view path = "/");

private:
    int status_ = 200;
    Headers headers_;
    std::string body_;
};

/// Thrown by a handler (or middleware) to answer with `status` and a JSON body
/// `{"detail": detail}` (FastAPI's HTTPException); `headers` are added to the response.
class HTTPException : public Error {
public:
    HTTPException(int status, std::string detail, Headers headers = {});
    [[nodiscard]] int status() const noexcept { return status_; }
    [[nodiscard]] const std::string& detail() const noexcept { return detail_; }
    [[nodiscard]] const Headers& headers() const noexcept { return headers_; }
    /// The response this exception renders as.
    [[nodiscard]] Response response() const;

private:
    int status_;
    std::string detail_;
    Headers headers_;
};

}  // namespace aio::http
