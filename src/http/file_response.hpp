// Serving a file: the answer to a request for it, given its conditional and range headers
// (RFC 9110 §13 and §14), private to aio::http.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aio/http/headers.hpp"
#include "aio/http/response.hpp"

namespace aio::http::detail {

/// What to send for a Response::file(): a status and headers, and either a byte range of
/// the open file or, for 304/403/404/412/416, `answer` instead. Owns the file descriptor.
struct FilePlan {
    FilePlan() = default;
    FilePlan(FilePlan&& o) noexcept;
    FilePlan& operator=(FilePlan&&) = delete;
    ~FilePlan();

    int status = 200;
    Headers headers;  // Content-Type, ETag, Last-Modified, Accept-Ranges, Content-Range
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::optional<Response> answer;  // the whole answer when no file bytes are sent
};

/// Opens `path` and decides the answer to `method` with `request` headers; `status` and
/// `headers` are what the handler put on its Response::file() (its headers win).
FilePlan plan_file(const std::string& path, int status, const Headers& headers, std::string_view method,
                   const Headers& request);

/// The Content-Type for a file name's extension ("application/octet-stream" if unknown).
std::string_view content_type_for(std::string_view path) noexcept;

/// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate) for a time in seconds since the epoch.
std::string http_date_of(std::int64_t seconds);
/// Parses the three HTTP date formats (RFC 9110 §5.6.7); nullopt when malformed.
std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept;

}  // namespace aio::http::detail
