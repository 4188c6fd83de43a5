#include "aio/http/wire.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace aio::http {

namespace {

constexpr std::size_t kMaxChunkLine = 4096;
constexpr std::size_t kMaxTrailers = 16 * 1024;

// Reads up to and including the CRLF CRLF that ends a head, skipping empty lines before
// it. Returns "" when the stream ended before any byte.
Coro<std::string> read_head_bytes(StreamReader& reader, std::size_t max_size, const char* kind) {
    for (;;) {
        std::string head;
        try {
            head = co_await reader.readuntil("\r\n\r\n");
        } catch (const IncompleteReadError& e) {
            if (e.partial().find_first_not_of("\r\n") == std::string::npos) co_return std::string();
            throw BadHttpMessage(fmt::format("the connection closed inside the {} head ({} bytes)", kind,
                                             e.partial().size()));
        } catch (const LimitOverrunError&) {
            throw BadHttpMessage(431, fmt::format("{} head larger than {} bytes", kind, max_size));
        }
        std::size_t skip = 0;
        while (head.compare(skip, 2, "\r\n") == 0) skip += 2;
        if (skip == head.size()) continue;  // only empty lines so far
        if (head.size() - skip > max_size) {
            throw BadHttpMessage(431, fmt::format("{} head larger than {} bytes", kind, max_size));
        }
        if (skip) head.erase(0, skip);
        co_return head;
    }
}

// `what` and `header` name the text in the error: "the reason phrase", or "the value of
// header 'X'" (formatted only when there is an error: this runs for every field sent).
void check_text(std::string_view text, std::string_view what, std::string_view header = {}) {
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) {
            const std::string where = header.empty() ? std::string(what) : fmt::format("{} '{}'", what, header);
            throw ValueError(fmt::format("ValueError: invalid character 0x{:02x} in {} (header injection?)", u, where));
        }
    }
}

}  // namespace

void write_fields(std::string& out, const Headers& headers, bool end_head) {
    for (const auto& [name, value] : headers) {
        if (!is_token(name)) throw ValueError(fmt::format("ValueError: invalid header name '{}'", name));
        check_text(value, "the value of header", name);
        out.append(name).append(": ").append(value).append("\r\n");
    }
    if (end_head) out.append("\r\n");
}

Coro<std::optional<RequestHead>> read_request_head(StreamReader& reader, std::size_t max_size) {
    std::string head = co_await read_head_bytes(reader, max_size, "request");
    if (head.empty()) co_return std::nullopt;
    co_return parse_request_head(head);
}

Coro<std::optional<ResponseHead>> read_response_head(StreamReader& reader, std::size_t max_size) {
    for (;;) {
        std::string bytes = co_await read_head_bytes(reader, max_size, "response");
        if (bytes.empty()) co_return std::nullopt;
        ResponseHead head = parse_response_head(bytes);
        if (head.status >= 200 || head.status == 101) co_return head;
    }
}

BodyReader::BodyReader(StreamReader& reader, BodyFraming framing) noexcept : reader_(&reader), framing_(framing) {
    switch (framing.kind) {
    case BodyFraming::kNone: state_ = State::kDone; break;
    case BodyFraming::kLength:
        state_ = framing.length ? State::kData : State::kDone;
        remaining_ = framing.length;
        break;
    case BodyFraming::kChunked: state_ = State::kChunkSize; break;
    case BodyFraming::kUntilClose:
        state_ = State::kData;
        remaining_ = UINT64_MAX;
        break;
    }
}

Coro<std::string> BodyReader::read_some(std::size_t max) {
    if (max == 0) max = 1;
    for (;;) {
        switch (state_) {
        case State::kDone: co_return std::string();
        case State::kData:
        case State::kChunkData: {
            auto want = static_cast<std::size_t>(std::min<std::uint64_t>(max, remaining_));
            std::string data = co_await reader_->read(static_cast<std::ptrdiff_t>(want));
            if (data.empty()) {
                if (framing_.kind == BodyFraming::kUntilClose) {
                    state_ = State::kDone;
                    co_return data;
                }
                if (framing_.kind == BodyFraming::kLength) {
                    throw BadHttpMessage(fmt::format("the connection closed after {} of {} body bytes", bytes_read_,
                                                     framing_.length));
                }
                throw BadHttpMessage(fmt::format("the connection closed inside a chunk, after {} body bytes",
                                                 bytes_read_));
            }
            bytes_read_ += data.size();
            if (framing_.kind != BodyFraming::kUntilClose) remaining_ -= data.size();
            if (remaining_ == 0) state_ = state_ == State::kData ? State::kDone : State::kChunkEnd;
            co_return data;
        }
        case State::kChunkSize: {
            std::string line;
            try {
                line = co_await reader_->readuntil("\r\n");
            } catch (const IncompleteReadError&) {
                throw BadHttpMessage(fmt::format("the connection closed before a chunk size, after {} body bytes",
                                                 bytes_read_));
            } catch (const LimitOverrunError&) {
                throw BadHttpMessage("chunk size line too long");
            }
            if (line.size() > kMaxChunkLine) throw BadHttpMessage("chunk size line too long");
            line.resize(line.size() - 2);
            std::uint64_t size = parse_chunk_size(line);
            if (size == 0) {
                state_ = State::kTrailers;
            } else {
                remaining_ = size;
                state_ = State::kChunkData;
            }
            break;
        }
        case State::kChunkEnd: {
            std::string crlf;
            try {
                crlf = co_await reader_->readexactly(2);
            } catch (const IncompleteReadError&) {
                throw BadHttpMessage("the connection closed after a chunk's data");
            }
            if (crlf != "\r\n") throw BadHttpMessage("chunk data not followed by CRLF");
            state_ = State::kChunkSize;
            break;
        }
        case State::kTrailers: {
            std::string line;
            try {
                line = co_await reader_->readuntil("\r\n");
            } catch (const IncompleteReadError&) {
                throw BadHttpMessage("the connection closed inside the chunked trailers");
            } catch (const LimitOverrunError&) {
                throw BadHttpMessage(431, "chunked trailers too large");
            }
            if (line.size() == 2) {
                trailer_block_.append("\r\n");
                parse_fields(trailer_block_, trailers_);
                trailer_block_.clear();
                trailer_block_.shrink_to_fit();
                state_ = State::kDone;
                co_return std::string();
            }
            if (trailer_block_.size() + line.size() > kMaxTrailers) {
                throw BadHttpMessage(431, "chunked trailers too large");
            }
            trailer_block_.append(line);
            break;
        }
        }
    }
}

Coro<std::string> BodyReader::read_all(std::size_t limit) {
    std::string body;
    if (state_ == State::kData && framing_.kind == BodyFraming::kLength) {
        if (remaining_ > limit) {
            throw BadHttpMessage(413, fmt::format("body of {} bytes is larger than the limit of {}", remaining_, limit));
        }
        try {
            body = co_await reader_->readexactly(static_cast<std::size_t>(remaining_));
        } catch (const IncompleteReadError& e) {
            throw BadHttpMessage(fmt::format("the connection closed after {} of {} body bytes",
                                             bytes_read_ + e.partial().size(), framing_.length));
        }
        bytes_read_ += body.size();
        remaining_ = 0;
        state_ = State::kDone;
        co_return body;
    }
    while (state_ != State::kDone) {
        std::string piece = co_await read_some(64 * 1024);
        if (body.size() + piece.size() > limit) {
            throw BadHttpMessage(413, fmt::format("body larger than the limit of {} bytes", limit));
        }
        if (body.empty()) {
            body = std::move(piece);
        } else {
            body.append(piece);
        }
    }
    co_return body;
}

Coro<bool> BodyReader::discard(std::uint64_t limit) {
    std::uint64_t dropped = 0;
    while (state_ != State::kDone) {
        if (dropped > limit) co_return false;
        std::string piece = co_await read_some(64 * 1024);
        dropped += piece.size();
    }
    co_return dropped <= limit;
}

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}

void write_request_head(std::string& out, std::string_view method, std::string_view target, const Headers& headers) {
    if (!is_token(method)) throw ValueError(fmt::format("ValueError: invalid HTTP method '{}'", method));
    if (target.empty()) throw ValueError("ValueError: empty request target");
    for (char c : target) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) {
            throw ValueError(fmt::format("ValueError: invalid character 0x{:02x} in request target (quote it)", u));
        }
    }
    out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    write_fields(out, headers);
}

void write_response_head(std::string& out, int status, std::string_view reason, const Headers& headers) {
    if (status < 100 || status > 999) throw ValueError(fmt::format("ValueError: invalid HTTP status {}", status));
    check_text(reason, "the reason phrase");
    out.append("HTTP/1.1 ").append(fmt::format_int(status).c_str()).append(" ").append(reason).append("\r\n");
    write_fields(out, headers);
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) return;
    fmt::format_to(std::back_inserter(out), "{:x}\r\n", data.size());
    out.append(data).append("\r\n");
}

}  // namespace aio::http
