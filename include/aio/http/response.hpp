// What a handler returns: a status, headers and a body (aiohttp.web.Response, Starlette's
// Response/JSONResponse), and HTTPException for error answers (FastAPI's).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "aio/async_generator.hpp"
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

/// An HTTP response. Plain value type; handlers build and return it. Its body is held in
/// memory, produced piece by piece (stream()) or read from a file (file()).
/// Thread-safety: a plain value type; a streaming body is loop-affine.
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
    /// A body produced piece by piece by `body` and sent as it comes, chunked
    /// (Starlette's StreamingResponse; aiohttp's StreamResponse.write). Each yielded string
    /// is sent (and drained) before the generator is resumed, so a slow client slows the
    /// generator down. An exception from the generator after the head was sent cannot
    /// change the status: it is reported and the connection is closed mid-body, which the
    /// client sees as a truncated response. For HEAD the generator is closed unstarted.
    static Response stream(AsyncGenerator<std::string> body,
                           std::string_view content_type = "application/octet-stream", int status = 200);
    /// The file at `path` (Starlette's FileResponse, aiohttp's FileResponse), sent with
    /// sendfile(2): Content-Type from its extension unless set, ETag and Last-Modified,
    /// 304 for a matching If-None-Match (or If-Modified-Since), single byte ranges (206,
    /// and 416 when unsatisfiable; If-Range honoured), 412 for a failed If-Match. A
    /// missing file answers 404, an unreadable one or a directory 403.
    static Response file(std::string path, int status = 200);

    [[nodiscard]] int status() const noexcept { return status_; }
    void set_status(int status) noexcept { status_ = status; }
    [[nodiscard]] Headers& headers() noexcept { return headers_; }
    [[nodiscard]] const Headers& headers() const noexcept { return headers_; }
    [[nodiscard]] const std::string& body() const noexcept { return body_; }
    void set_body(std::string body) noexcept {
        body_ = std::move(body);
        stream_.reset();
        file_.clear();
    }
    /// The generator of a stream() response (else null).
    [[nodiscard]] AsyncGenerator<std::string>* body_stream() const noexcept { return stream_.get(); }
    /// The path of a file() response (else empty).
    [[nodiscard]] const std::string& file_path() const noexcept { return file_; }
    /// Adds a Set-Cookie header; refuses names and values that are not cookie-safe.
    void set_cookie(std::string_view name, std::string_view value, CookieOptions options = {});
    /// Adds a Set-Cookie header that expires `name` now.
    void delete_cookie(std::string_view name, std::string_view path = "/");

private:
    int status_ = 200;
    Headers headers_;
    std::string body_;
    std::shared_ptr<AsyncGenerator<std::string>> stream_;  // shared: Response stays copyable
    std::string file_;
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
