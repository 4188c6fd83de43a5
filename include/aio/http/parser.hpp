// HTTP/1.1 message parsing (RFC 9110/9112), strict; the parser under aiohttp's server and
// client (aiohttp.http_parser).
//
// These functions are pure: they take bytes already read and never do I/O, so they can be
// fuzzed and compared with other parsers. wire.hpp reads messages from a stream with them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "aio/exceptions.hpp"
#include "aio/http/headers.hpp"

namespace aio::http {

/// A message that breaks HTTP/1.1's grammar or its framing rules (aiohttp's
/// BadHttpMessage). `status()` is what a server answers: 400, or 431 (head too large),
/// 501 (unknown transfer coding), 505 (HTTP version). The message names the offending
/// part, e.g. "BadHttpMessage: invalid character 0x0d in header value of 'X-Id'".
class BadHttpMessage : public ValueError {
public:
    BadHttpMessage(int status, const std::string& detail);
    explicit BadHttpMessage(const std::string& detail) : BadHttpMessage(400, detail) {}
    [[nodiscard]] int status() const noexcept { return status_; }

private:
    int status_;
};

/// How a message's body is delimited (RFC 9112 §6.3).
struct BodyFraming {
    enum Kind : std::uint8_t {
        kNone,        // no body
        kLength,      // exactly `length` bytes (Content-Length)
        kChunked,     // Transfer-Encoding: chunked
        kUntilClose,  // responses only: until the server closes the connection
    };
    Kind kind = kNone;
    std::uint64_t length = 0;
};

/// A request line and header fields.
struct RequestHead {
    std::string method;  // as sent; methods are case-sensitive
    std::string target;  // origin-form "/p?q", absolute-form, authority-form or "*"
    int version = 11;    // 10 for HTTP/1.0, 11 for HTTP/1.1
    Headers headers;

    /// Whether the connection stays open after this exchange (HTTP/1.1 unless
    /// "Connection: close"; HTTP/1.0 only with "Connection: keep-alive").
    [[nodiscard]] bool keep_alive() const noexcept;
};

/// A status line and header fields.
struct ResponseHead {
    int version = 11;
    int status = 0;
    std::string reason;
    Headers headers;

    [[nodiscard]] bool keep_alive() const noexcept;
};

/// The most header fields a head may carry.
inline constexpr std::size_t kMaxHeaderFields = 100;

/// Parses a request head: the request line and the header fields, up to and including the
/// empty line that ends them (CRLF line ends; a bare CR or LF is refused). Refuses, with
/// BadHttpMessage: a method that is not a token, a target with spaces or control bytes,
/// versions other than HTTP/1.0 and 1.1 (505), header names that are not tokens, white
/// space before the colon, obs-fold, control bytes in values, more than kMaxHeaderFields
/// fields (431), and an HTTP/1.1 request without exactly one Host.
[[nodiscard]] RequestHead parse_request_head(std::string_view head);

/// Parses a response head (status line and header fields) with the same rules.
[[nodiscard]] ResponseHead parse_response_head(std::string_view head);

/// The framing of a request body. Refuses the request-smuggling shapes: Transfer-Encoding
/// together with Content-Length, more than one Content-Length, a Content-Length that is
/// not plain digits, Transfer-Encoding whose final coding is not chunked (or any coding
/// other than chunked: 501), and Transfer-Encoding on HTTP/1.0.
[[nodiscard]] BodyFraming request_framing(const RequestHead& head);

/// The framing of a response to a request with `request_method` (HEAD and 1xx/204/304
/// have no body; a successful CONNECT has none either). Same refusals as requests, except
/// that a response without length runs until the connection closes.
[[nodiscard]] BodyFraming response_framing(const ResponseHead& head, std::string_view request_method);

/// The size in a chunk-size line ("1a;name=value", without its CRLF): hex digits,
/// optionally followed by well-formed chunk extensions, which are ignored.
[[nodiscard]] std::uint64_t parse_chunk_size(std::string_view line);

/// Parses header-field lines (each ending in CRLF, the block ending with an empty line)
/// into `out`; used for heads and for chunked trailers.
void parse_fields(std::string_view block, Headers& out);

/// Whether `text` is a token (RFC 9110 §5.6.2): method names, header names.
[[nodiscard]] bool is_token(std::string_view text) noexcept;

}  // namespace aio::http
