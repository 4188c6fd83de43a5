// Reading and writing HTTP/1.1 messages on a stream: heads, framed bodies, chunked
// encoding. The client and the server share this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aio/coro.hpp"
#include "aio/http/headers.hpp"
#include "aio/http/parser.hpp"
#include "aio/net/streams.hpp"

namespace aio::http {

/// Default cap on a request or response head (request line or status line plus fields).
inline constexpr std::size_t kDefaultMaxHeadSize = 16 * 1024;

/// Reads a request head of at most `max_size` bytes; empty lines before it are skipped
/// (RFC 9112 §2.2). Returns nullopt when the stream ends before the first byte (the client
/// closed an idle keep-alive connection). Throws BadHttpMessage: 431 past `max_size`, 400
/// when the stream ends inside the head or the head is malformed.
/// Cancellation: Cancel-safe: if cancelled, no byte of the head is consumed.
[[nodiscard]] Coro<std::optional<RequestHead>> read_request_head(StreamReader& reader,
                                                                  std::size_t max_size = kDefaultMaxHeadSize);

/// Reads a response head; interim 1xx responses other than 101 are read and skipped.
/// Returns nullopt when the stream ends before the first byte (the server closed the
/// connection without answering: a stale keep-alive connection). Throws BadHttpMessage
/// as read_request_head does.
/// Cancellation: Not cancel-safe: a 1xx response already skipped is not given back.
[[nodiscard]] Coro<std::optional<ResponseHead>> read_response_head(StreamReader& reader,
                                                                    std::size_t max_size = kDefaultMaxHeadSize);

/// Reads one message body from a stream, as framed by its head. Holds a pointer to the
/// reader, which must outlive it. Move-only.
/// Thread-safety: loop-affine.
class BodyReader {
public:
    BodyReader() = default;  // an empty body, already done
    BodyReader(StreamReader& reader, BodyFraming framing) noexcept;
    BodyReader(BodyReader&&) noexcept = default;
    BodyReader& operator=(BodyReader&&) noexcept = default;

    /// The next piece of the body, at most `max` bytes and at least one; empty once the
    /// body has ended. Throws BadHttpMessage on a malformed chunk and when the stream ends
    /// before the body does ("connection closed after 10 of 200 body bytes").
    /// Cancellation: Cancel-safe: if cancelled, no body byte is lost; reading may resume.
    [[nodiscard]] Coro<std::string> read_some(std::size_t max = 64 * 1024);
    /// The rest of the body. Throws BadHttpMessage(413) when it would exceed `limit`
    /// bytes in all, leaving the excess unread.
    /// Cancellation: Cancel-safe: if cancelled, what was read so far is dropped, and the
    /// body cannot be resumed exactly; close the connection.
    [[nodiscard]] Coro<std::string> read_all(std::size_t limit = SIZE_MAX);
    /// Reads and drops the rest of the body, at most `limit` bytes; returns whether the
    /// body ended within the limit (then the connection may carry another message).
    /// Cancellation: Cancel-safe: if cancelled, the body is partly drained; close the
    /// connection.
    [[nodiscard]] Coro<bool> discard(std::uint64_t limit);

    /// The whole body has been read (trailers included).
    [[nodiscard]] bool done() const noexcept { return state_ == State::kDone; }
    /// Body bytes returned so far.
    [[nodiscard]] std::uint64_t bytes_read() const noexcept { return bytes_read_; }
    /// Trailer fields of a chunked body, once it is done.
    [[nodiscard]] const Headers& trailers() const noexcept { return trailers_; }
    [[nodiscard]] const BodyFraming& framing() const noexcept { return framing_; }

private:
    enum class State : std::uint8_t { kData, kChunkSize, kChunkData, kChunkEnd, kTrailers, kDone };

    StreamReader* reader_ = nullptr;
    BodyFraming framing_;
    State state_ = State::kDone;
    std::uint64_t remaining_ = 0;  // in the body (kLength) or the current chunk
    std::uint64_t bytes_read_ = 0;
    Headers trailers_;
    std::string trailer_block_;
};

/// The standard reason phrase for `status` ("Not Found"), or "" when it has none.
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;

/// Appends "METHOD target HTTP/1.1\r\n", the fields and the empty line to `out`. Throws
/// ValueError when the method or a header name is not a token, or when the target or a
/// value holds CR, LF or another control byte (header injection).
void write_request_head(std::string& out, std::string_view method, std::string_view target,
                        const Headers& headers);
/// Appends "HTTP/1.1 status reason\r\n", the fields and the empty line, with the same
/// checks.
void write_response_head(std::string& out, int status, std::string_view reason, const Headers& headers);
/// Appends header fields and (unless `end_head` is false: more follow) the empty line
/// that ends a head, with the checks above.
void write_fields(std::string& out, const Headers& headers, bool end_head = true);
/// Appends one chunk of chunked encoding (nothing for empty `data`, which would end the
/// body).
void append_chunk(std::string& out, std::string_view data);
/// The last chunk with no trailers.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace aio::http
