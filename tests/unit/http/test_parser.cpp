#include "aio/http/parser.hpp"

#include <gtest/gtest.h>

#include <string>

using aio::http::BadHttpMessage;
using aio::http::BodyFraming;
using aio::http::parse_request_head;
using aio::http::parse_response_head;

namespace {

// The status and message a head is refused with ("" and 0 when it is accepted).
std::pair<int, std::string> refusal(const std::string& head) {
    try {
        auto req = parse_request_head(head);
        (void)aio::http::request_framing(req);
    } catch (const BadHttpMessage& e) {
        return {e.status(), e.what()};
    }
    return {0, ""};
}

}  // namespace

TEST(Parser, RequestHead) {
    auto req = parse_request_head("GET /a/b?c=d HTTP/1.1\r\nHost: example.org\r\nX-Spaced:   v a l  \r\nEmpty:\r\n\r\n");
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.target, "/a/b?c=d");
    EXPECT_EQ(req.version, 11);
    EXPECT_EQ(req.headers.get("host"), "example.org");
    EXPECT_EQ(req.headers.get("x-spaced"), "v a l");
    EXPECT_EQ(req.headers.get("empty"), "");
    EXPECT_TRUE(req.keep_alive());
    EXPECT_EQ(aio::http::request_framing(req).kind, BodyFraming::kNone);
}

TEST(Parser, KeepAliveRules) {
    EXPECT_FALSE(parse_request_head("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive());
    EXPECT_FALSE(parse_request_head("GET / HTTP/1.0\r\n\r\n").keep_alive());
    EXPECT_TRUE(parse_request_head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
    EXPECT_FALSE(parse_request_head("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n").keep_alive());
    EXPECT_EQ(parse_request_head("GET / HTTP/1.9\r\nHost: h\r\n\r\n").version, 11);  // a higher 1.x is 1.1
}

TEST(Parser, BodyFramingOfRequests) {
    auto framing = [](const std::string& fields) {
        return aio::http::request_framing(parse_request_head("POST / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n"));
    };
    EXPECT_EQ(framing("Content-Length: 12\r\n").kind, BodyFraming::kLength);
    EXPECT_EQ(framing("Content-Length: 12\r\n").length, 12u);
    EXPECT_EQ(framing("Content-Length: 0\r\n").kind, BodyFraming::kNone);
    EXPECT_EQ(framing("Transfer-Encoding: chunked\r\n").kind, BodyFraming::kChunked);
    EXPECT_EQ(framing("Transfer-Encoding: Chunked\r\n").kind, BodyFraming::kChunked);
    EXPECT_EQ(framing("").kind, BodyFraming::kNone);
}

TEST(Parser, RefusesRequestSmugglingShapes) {
    const std::string start = "POST / HTTP/1.1\r\nHost: h\r\n";
    EXPECT_EQ(refusal(start + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Content-Length: 5, 5\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Content-Length: +5\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Content-Length: -1\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Content-Length: 0x10\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Content-Length: 99999999999999999999\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Content-Length:\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Transfer-Encoding: chunked, gzip\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Transfer-Encoding: gzip, chunked\r\n\r\n").first, 501);
    EXPECT_EQ(refusal(start + "Transfer-Encoding: xchunked\r\n\r\n").first, 501);
    EXPECT_EQ(refusal(start + "Transfer-Encoding: chunked,\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "Transfer-Encoding : chunked\r\n\r\n").first, 400);  // space before colon
    EXPECT_EQ(refusal(start + "Transfer-Encoding:\x0b" "chunked\r\n\r\n").first, 400);
    EXPECT_EQ(refusal("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").first, 400);
    EXPECT_EQ(refusal(start + "X: a\r\n Transfer-Encoding: chunked\r\n\r\n").first, 400);  // obs-fold
    auto both = refusal(start + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
    EXPECT_NE(both.second.find("both Transfer-Encoding and Content-Length"), std::string::npos) << both.second;
}

TEST(Parser, RefusesMalformedHeads) {
    EXPECT_EQ(refusal("GET / HTTP/1.1\r\n\r\n").first, 400);                      // no Host
    EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").first, 400);  // two Hosts
    EXPECT_EQ(refusal("GET / HTTP/2.0\r\nHost: h\r\n\r\n").first, 505);
    EXPECT_EQ(refusal("GET / HTTP/1.1x\r\nHost: h\r\n\r\n").first, 400);
    EXPECT_EQ(refusal("GET / http/1.1\r\nHost: h\r\n\r\n").first, 400);
    EXPECT_EQ(refusal("GET  / HTTP/1.1\r\nHost: h\r\n\r\n").first, 400);          // double space
    EXPECT_EQ(refusal("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n").first, 400);
    EXPECT_EQ(refusal("G(T / HTTP/1.1\r\nHost: h\r\n\r\n").first, 400);
    EXPECT_EQ(refusal("GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n").first, 400);
    EXPECT_EQ(refusal("GET / HTTP/1.1\nHost: h\r\n\r\n").first, 400);             // bare LF
    EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n").first, 400);     // bare CR
    EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: h\r\nX: a\x00" "b\r\n\r\n").first, 400);
    EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n").first, 400);
    EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: h\r\n: empty-name\r\n\r\n").first, 400);
    EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: h\r\nBad[Name]: x\r\n\r\n").first, 400);
    EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: h\r\n").first, 400);               // unterminated
    auto bare_cr = refusal("GET / HTTP/1.1\r\nHost: h\r\nX-Id: 1\r2\r\n\r\n");
    EXPECT_NE(bare_cr.second.find("0x0d"), std::string::npos) << bare_cr.second;
    EXPECT_NE(bare_cr.second.find("X-Id"), std::string::npos) << bare_cr.second;
}

TEST(Parser, TooManyFieldsIs431) {
    std::string head = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (std::size_t i = 0; i < aio::http::kMaxHeaderFields; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
    EXPECT_EQ(refusal(head + "\r\n").first, 431);
}

TEST(Parser, AcceptsObsTextAndOtherTargets) {
    EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n").first, 0);
    EXPECT_EQ(refusal("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").first, 0);
    EXPECT_EQ(refusal("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n").first, 0);
    EXPECT_EQ(refusal("GET http://example.org/x HTTP/1.1\r\nHost: example.org\r\n\r\n").first, 0);
    EXPECT_EQ(refusal("PURGE /x HTTP/1.1\r\nHost: h\r\n\r\n").first, 0);  // any token method
}

TEST(Parser, ResponseHead) {
    auto resp = parse_response_head("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n");
    EXPECT_EQ(resp.status, 404);
    EXPECT_EQ(resp.reason, "Not Found");
    EXPECT_EQ(aio::http::response_framing(resp, "GET").kind, BodyFraming::kLength);
    EXPECT_EQ(aio::http::response_framing(resp, "HEAD").kind, BodyFraming::kNone);
    EXPECT_EQ(parse_response_head("HTTP/1.1 200\r\n\r\n").reason, "");
    EXPECT_EQ(parse_response_head("HTTP/1.1 200 \r\n\r\n").reason, "");
    auto until_close = parse_response_head("HTTP/1.0 200 OK\r\n\r\n");
    EXPECT_EQ(aio::http::response_framing(until_close, "GET").kind, BodyFraming::kUntilClose);
    EXPECT_FALSE(until_close.keep_alive());
    for (int status : {100, 101, 204, 304}) {
        auto r = parse_response_head("HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 9\r\n\r\n");
        EXPECT_EQ(aio::http::response_framing(r, "GET").kind, BodyFraming::kNone) << status;
    }
    auto connect = parse_response_head("HTTP/1.1 200 Connection established\r\n\r\n");
    EXPECT_EQ(aio::http::response_framing(connect, "CONNECT").kind, BodyFraming::kNone);
    EXPECT_THROW((void)parse_response_head("HTTP/1.1 20 OK\r\n\r\n"), BadHttpMessage);
    EXPECT_THROW((void)parse_response_head("HTTP/1.1 2000 OK\r\n\r\n"), BadHttpMessage);
    EXPECT_THROW((void)parse_response_head("HTTP/1.1 200OK\r\n\r\n"), BadHttpMessage);
    EXPECT_THROW((void)parse_response_head("ICY 200 OK\r\n\r\n"), BadHttpMessage);
    auto both = parse_response_head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    EXPECT_THROW((void)aio::http::response_framing(both, "GET"), BadHttpMessage);
}

TEST(Parser, ChunkSizeLines) {
    EXPECT_EQ(aio::http::parse_chunk_size("0"), 0u);
    EXPECT_EQ(aio::http::parse_chunk_size("1a"), 26u);
    EXPECT_EQ(aio::http::parse_chunk_size("FF"), 255u);
    EXPECT_EQ(aio::http::parse_chunk_size("5;name=value"), 5u);
    EXPECT_EQ(aio::http::parse_chunk_size("5 ; a ; b=\"q\\\"uoted\""), 5u);
    EXPECT_EQ(aio::http::parse_chunk_size("fffffffffffffff"), 0xfffffffffffffffu);
    for (const char* bad : {"", "x", "-1", "0x5", "5 junk", "5;", "5;=v", "5;a=", "5;a=\"open", "1000000000000000",
                            "5\r", "5;a=b c", " 5"}) {
        EXPECT_THROW((void)aio::http::parse_chunk_size(bad), BadHttpMessage) << "'" << bad << "'";
    }
}

TEST(Parser, FieldsBlockMustEndAtTheEmptyLine) {
    aio::http::Headers h;
    aio::http::parse_fields("A: 1\r\nB: 2\r\n\r\n", h);
    EXPECT_EQ(h.size(), 2u);
    aio::http::Headers h2;
    EXPECT_THROW(aio::http::parse_fields("A: 1\r\n\r\nB: 2\r\n", h2), BadHttpMessage);
}
