// Fuzzes reading messages from a stream: heads and bodies (Content-Length, chunked, until
// close) as the server and the client read them, over a real socket pair. Whatever the
// bytes, reading ends in messages, a clean end, or BadHttpMessage; never a crash or hang.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "aio/aio.hpp"
#include "aio/http/wire.hpp"
#include "aio/net/sockets.hpp"

namespace {

aio::Coro<void> read_requests(aio::StreamReader& reader, std::size_t piece) {
    for (int i = 0; i < 64; ++i) {
        auto head = co_await aio::http::read_request_head(reader, 4096);
        if (!head) co_return;
        aio::http::BodyReader body(reader, aio::http::request_framing(*head));
        std::uint64_t got = 0;
        for (;;) {
            std::string data = co_await body.read_some(piece);
            if (data.empty()) break;
            got += data.size();
        }
        if (got != body.bytes_read()) std::abort();
        if (head->headers.get("expect-trailers") && body.trailers().size() > aio::http::kMaxHeaderFields) std::abort();
    }
}

aio::Coro<void> read_responses(aio::StreamReader& reader) {
    for (int i = 0; i < 64; ++i) {
        auto head = co_await aio::http::read_response_head(reader, 4096);
        if (!head) co_return;
        aio::http::BodyReader body(reader, aio::http::response_framing(*head, i % 2 ? "GET" : "HEAD"));
        std::string all = co_await body.read_all(1 << 20);
        if (all.size() != body.bytes_read()) std::abort();
    }
}

aio::Coro<void> run_one(std::string input, bool as_response, std::size_t piece) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
    aio::Streams streams = aio::open_connection(aio::Socket::adopt(fds[0]));
    const char* p = input.data();
    std::size_t left = input.size();
    while (left) {
        auto n = ::write(fds[1], p, left);
        if (n <= 0) std::abort();
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
    try {
        if (as_response) {
            co_await read_responses(streams.reader);
        } else {
            co_await read_requests(streams.reader, piece);
        }
    } catch (const aio::http::BadHttpMessage&) {
    }
    streams.writer.close();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0 || size > 60000) return 0;  // must fit the socket buffer without a reader
    const bool as_response = data[0] & 1;
    const std::size_t piece = 1 + (data[0] >> 1);
    aio::EventLoop loop;
    loop.run_until_complete(run_one(std::string(reinterpret_cast<const char*>(data) + 1, size - 1), as_response, piece));
    loop.close();
    return 0;
}
