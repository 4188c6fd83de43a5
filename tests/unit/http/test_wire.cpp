#include "aio/http/wire.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "aio/net/sockets.hpp"
#include "test_loop.hpp"

using aio::http::BadHttpMessage;
using aio::http::BodyFraming;
using aio::http::BodyReader;

namespace {

// A connected pair: a StreamReader/StreamWriter on one end, a raw fd on the other that the
// test writes the peer's bytes to.
struct Pipe {
    aio::Streams streams;
    int peer = -1;

    Pipe() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
        streams = aio::open_connection(aio::Socket::adopt(fds[0]));
        peer = fds[1];
    }
    ~Pipe() { close_peer(); }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;

    void send(std::string_view bytes) const {
        while (!bytes.empty()) {
            auto n = ::write(peer, bytes.data(), bytes.size());
            if (n <= 0) throw std::runtime_error("write");
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    void close_peer() {
        if (peer >= 0) ::close(peer);
        peer = -1;
    }
    aio::StreamReader& reader() { return streams.reader; }
};

aio::Coro<int> refusal_status(aio::Coro<std::string> read) {
    try {
        (void)co_await std::move(read);
    } catch (const BadHttpMessage& e) {
        co_return e.status();
    }
    co_return 0;
}

aio::Coro<std::string> read_whole(BodyReader& body) {
    std::string out;
    for (;;) {
        std::string piece = co_await body.read_some(3);  // small pieces: exercise the states
        if (piece.empty()) break;
        out += piece;
    }
    co_return out;
}

}  // namespace

AIO_REAL_TEST(Wire, ReadsPipelinedRequestsOneByOne) {
    Pipe p;
    p.send("\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
           "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
    p.close_peer();
    auto first = co_await aio::http::read_request_head(p.reader());
    CO_ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->target, "/a");
    auto second = co_await aio::http::read_request_head(p.reader());
    CO_ASSERT_TRUE(second.has_value());
    BodyReader body(p.reader(), aio::http::request_framing(*second));
    EXPECT_EQ(co_await body.read_all(), "hello");
    EXPECT_TRUE(body.done());
    auto third = co_await aio::http::read_request_head(p.reader());
    CO_ASSERT_TRUE(third.has_value());
    EXPECT_EQ(third->target, "/c");
    EXPECT_FALSE((co_await aio::http::read_request_head(p.reader())).has_value());  // clean EOF
}

AIO_REAL_TEST(Wire, HeadLimitsAndTruncation) {
    {
        Pipe p;
        p.send("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(20000, 'a') + "\r\n\r\n");
        int status = 0;
        try {
            (void)co_await aio::http::read_request_head(p.reader(), 16 * 1024);
        } catch (const BadHttpMessage& e) {
            status = e.status();
        }
        EXPECT_EQ(status, 431);
    }
    {
        Pipe p;
        p.send("GET / HTTP/1.1\r\nHo");
        p.close_peer();
        std::string what;
        try {
            (void)co_await aio::http::read_request_head(p.reader());
        } catch (const BadHttpMessage& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("closed inside the request head"), std::string::npos) << what;
    }
}

AIO_REAL_TEST(Wire, ChunkedBodyWithExtensionsAndTrailers) {
    Pipe p;
    p.send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nChecksum: abc\r\n\r\nNEXT");
    auto head = co_await aio::http::read_response_head(p.reader());
    CO_ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);  // the 100 Continue was skipped
    BodyReader body(p.reader(), aio::http::response_framing(*head, "GET"));
    EXPECT_EQ(co_await read_whole(body), "hello, world");
    EXPECT_TRUE(body.done());
    EXPECT_EQ(body.bytes_read(), 12u);
    EXPECT_EQ(body.trailers().get("checksum"), "abc");
    EXPECT_EQ(co_await p.reader().readexactly(4), "NEXT");  // nothing beyond the body consumed
}

AIO_REAL_TEST(Wire, MalformedChunksAreRefused) {
    for (const char* bad : {"5\r\nhello0\r\n\r\n", "zz\r\n", "5\r\nhel", "5\r\nhello\r\n0\r\nBad Trailer\r\n\r\n",
                            "5\nhello\r\n0\r\n\r\n"}) {
        Pipe p;
        p.send(bad);
        p.close_peer();
        BodyReader body(p.reader(), {BodyFraming::kChunked, 0});
        int status = co_await refusal_status(read_whole(body));
        EXPECT_EQ(status, 400) << bad;
    }
}

AIO_REAL_TEST(Wire, LengthBodyLimitsAndShortBodies) {
    {
        Pipe p;
        p.send("0123456789");
        BodyReader body(p.reader(), {BodyFraming::kLength, 10});
        int status = co_await refusal_status(body.read_all(5));
        EXPECT_EQ(status, 413);
    }
    {
        Pipe p;
        p.send("0123");
        p.close_peer();
        BodyReader body(p.reader(), {BodyFraming::kLength, 10});
        std::string what;
        try {
            (void)co_await body.read_all();
        } catch (const BadHttpMessage& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("after 4 of 10 body bytes"), std::string::npos) << what;
    }
    {
        Pipe p;
        p.send("until close");
        p.close_peer();
        BodyReader body(p.reader(), {BodyFraming::kUntilClose, 0});
        EXPECT_EQ(co_await body.read_all(), "until close");
    }
    {
        Pipe p;
        p.send("abcdefGET");
        BodyReader body(p.reader(), {BodyFraming::kLength, 6});
        EXPECT_TRUE(co_await body.discard(100));
        EXPECT_EQ(co_await p.reader().readexactly(3), "GET");
    }
}

AIO_REAL_TEST(Wire, ReadSomeIsCancelSafe) {
    Pipe p;
    p.send("8\r\nabcd");
    BodyReader body(p.reader(), {BodyFraming::kChunked, 0});
    EXPECT_EQ(co_await body.read_some(), "abcd");
    // Nothing more has arrived: a read that times out loses nothing.
    bool timed_out = false;
    try {
        co_await aio::wait_for(body.read_some(), std::chrono::milliseconds(20));
    } catch (const aio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    p.send("efgh\r\n0\r\n\r\n");
    EXPECT_EQ(co_await read_whole(body), "efgh");
    EXPECT_TRUE(body.done());
}

TEST(WireWrite, HeadsAndChunks) {
    std::string out;
    aio::http::write_request_head(out, "GET", "/x?y=1", {{"Host", "h"}, {"Accept", "*/*"}});
    EXPECT_EQ(out, "GET /x?y=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n");
    out.clear();
    aio::http::write_response_head(out, 404, aio::http::reason_phrase(404), {{"Content-Length", "0"}});
    EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    out.clear();
    aio::http::append_chunk(out, "hello world, this is 26 b!");
    aio::http::append_chunk(out, "");
    out += aio::http::kLastChunk;
    EXPECT_EQ(out, "1a\r\nhello world, this is 26 b!\r\n0\r\n\r\n");
    EXPECT_EQ(aio::http::reason_phrase(799), "");
}

TEST(WireWrite, RefusesHeaderInjection) {
    std::string out;
    EXPECT_THROW(aio::http::write_request_head(out, "GET", "/", {{"X", "a\r\nEvil: 1"}}), aio::ValueError);
    EXPECT_THROW(aio::http::write_request_head(out, "GET", "/a b", {}), aio::ValueError);
    EXPECT_THROW(aio::http::write_request_head(out, "GE T", "/", {}), aio::ValueError);
    EXPECT_THROW(aio::http::write_response_head(out, 200, "OK\r\nX: y", {}), aio::ValueError);
    EXPECT_THROW(aio::http::write_response_head(out, 200, "OK", {{"Bad Name", "v"}}), aio::ValueError);
    EXPECT_THROW(aio::http::write_response_head(out, 42, "OK", {}), aio::ValueError);
}
