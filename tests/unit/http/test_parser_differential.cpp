// Differential test: our request parsing (parser.hpp + wire.hpp) against Debian's
// http-parser on a corpus of valid and hostile messages. Where both accept, every parsed
// field must match; where they disagree, the entry must say so and why (we are stricter
// than http-parser on purpose: RFC 9112 lets a server refuse what it refuses).
#include "aio/http/parser.hpp"

#include <http_parser.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "aio/http/wire.hpp"
#include "aio/net/sockets.hpp"
#include "test_loop.hpp"

namespace {

struct Parsed {
    bool accepted = false;
    std::string method, target, body;
    int version = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    bool keep_alive = false;

    bool operator==(const Parsed&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Parsed& p) {
    if (!p.accepted) return os << "refused";
    os << p.method << " " << p.target << " v" << p.version << (p.keep_alive ? " keep-alive" : " close") << " {";
    for (const auto& [n, v] : p.headers) os << n << ": " << v << "; ";
    return os << "} body[" << p.body.size() << "]='" << p.body << "'";
}

// --- http-parser --------------------------------------------------------------------------
struct Theirs {
    Parsed out;
    std::string field, value;
    bool in_value = false, complete = false;
};

int flush_header(Theirs& t) {
    if (t.in_value) {
        t.out.headers.emplace_back(t.field, t.value);
        t.field.clear();
        t.value.clear();
        t.in_value = false;
    }
    return 0;
}

Parsed parse_theirs(const std::string& msg) {
    http_parser_settings settings;
    http_parser_settings_init(&settings);
    settings.on_url = [](http_parser* p, const char* at, size_t n) {
        static_cast<Theirs*>(p->data)->out.target.append(at, n);
        return 0;
    };
    settings.on_header_field = [](http_parser* p, const char* at, size_t n) {
        auto& t = *static_cast<Theirs*>(p->data);
        flush_header(t);
        t.field.append(at, n);
        return 0;
    };
    settings.on_header_value = [](http_parser* p, const char* at, size_t n) {
        auto& t = *static_cast<Theirs*>(p->data);
        t.in_value = true;
        t.value.append(at, n);
        return 0;
    };
    settings.on_headers_complete = [](http_parser* p) { return flush_header(*static_cast<Theirs*>(p->data)); };
    settings.on_body = [](http_parser* p, const char* at, size_t n) {
        static_cast<Theirs*>(p->data)->out.body.append(at, n);
        return 0;
    };
    settings.on_message_complete = [](http_parser* p) {
        auto& t = *static_cast<Theirs*>(p->data);
        t.complete = true;
        t.out.method = http_method_str(static_cast<http_method>(p->method));
        t.out.version = p->http_major * 10 + p->http_minor;
        t.out.keep_alive = http_should_keep_alive(p) != 0;
        http_parser_pause(p, 1);  // one message per entry
        return 0;
    };
    Theirs t;
    http_parser parser;
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = &t;
    size_t n = http_parser_execute(&parser, &settings, msg.data(), msg.size());
    if (!t.complete || n != msg.size()) return {};
    if (parser.http_errno != HPE_OK && parser.http_errno != HPE_PAUSED) return {};
    t.out.accepted = true;
    return t.out;
}

// --- ours, read from a real stream ----------------------------------------------------------
aio::Coro<Parsed> parse_ours(const std::string& msg) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
    aio::Streams streams = aio::open_connection(aio::Socket::adopt(fds[0]));
    if (::write(fds[1], msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) throw std::runtime_error("write");
    ::close(fds[1]);
    Parsed out;
    try {
        auto head = co_await aio::http::read_request_head(streams.reader);
        if (head) {
            aio::http::BodyReader body(streams.reader, aio::http::request_framing(*head));
            out.body = co_await body.read_all();
            out.method = head->method;
            out.target = head->target;
            out.version = head->version;
            out.keep_alive = head->keep_alive();
            for (const auto& [n, v] : head->headers) out.headers.emplace_back(n, v);
            // One message per entry: anything after it would be a second, smuggled request.
            std::string rest = co_await streams.reader.read();
            if (rest.empty()) {
                out.accepted = true;
            } else {
                out = {};
            }
        }
    } catch (const aio::http::BadHttpMessage&) {
        out = {};
    }
    streams.writer.close();
    co_return out;
}

enum class Verdict {
    kAgree,      // both accept with identical fields, or both refuse
    kStricter,   // we refuse what http-parser accepts
    kWider,      // we accept what http-parser refuses
};

struct Case {
    const char* name;
    std::string message;
    Verdict verdict;
    const char* why = "";
};

std::vector<Case> corpus() {
    const std::string h = "Host: example.org\r\n";
    return {
        // Valid messages.
        {"simple GET", "GET / HTTP/1.1\r\n" + h + "\r\n", Verdict::kAgree},
        {"query and headers", "GET /a/b?c=d&e HTTP/1.1\r\n" + h + "Accept: */*\r\nX-Y: z\r\n\r\n", Verdict::kAgree},
        {"Content-Length body", "POST /p HTTP/1.1\r\n" + h + "Content-Length: 11\r\n\r\nhello world", Verdict::kAgree},
        {"empty Content-Length", "POST /p HTTP/1.1\r\n" + h + "Content-Length: 0\r\n\r\n", Verdict::kAgree},
        {"chunked", "POST /c HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
         Verdict::kAgree},
        {"chunked, upper-case hex and extension",
         "PUT /c HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nA;name=val\r\n0123456789\r\n0\r\n\r\n",
         Verdict::kAgree},
        {"HTTP/1.0 without Host", "GET /old HTTP/1.0\r\n\r\n", Verdict::kAgree},
        {"HTTP/1.0 keep-alive", "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", Verdict::kAgree},
        {"Connection: close", "GET / HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n", Verdict::kAgree},
        {"empty header value", "GET / HTTP/1.1\r\n" + h + "X-Empty:\r\n\r\n", Verdict::kAgree},
        {"OPTIONS *", "OPTIONS * HTTP/1.1\r\n" + h + "\r\n", Verdict::kAgree},
        {"absolute-form", "GET http://example.org/x?y HTTP/1.1\r\n" + h + "\r\n", Verdict::kAgree},
        {"DELETE", "DELETE /items/7 HTTP/1.1\r\n" + h + "\r\n", Verdict::kAgree},
        {"obs-text value", "GET / HTTP/1.1\r\n" + h + "X-Name: caf\xc3\xa9\r\n\r\n", Verdict::kAgree},
        {"leading empty line", "\r\nGET / HTTP/1.1\r\n" + h + "\r\n", Verdict::kAgree},
        {"large body", "POST /big HTTP/1.1\r\n" + h + "Content-Length: 5000\r\n\r\n" + std::string(5000, 'b'),
         Verdict::kAgree},
        // Hostile or malformed: both refuse.
        {"Content-Length and Transfer-Encoding",
         "POST / HTTP/1.1\r\n" + h + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", Verdict::kAgree},
        {"two different Content-Lengths", "POST / HTTP/1.1\r\n" + h + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
         Verdict::kAgree},
        {"Content-Length not a number", "POST / HTTP/1.1\r\n" + h + "Content-Length: 1x\r\n\r\nab", Verdict::kAgree},
        {"bad chunk size", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", Verdict::kAgree},
        {"chunk without CRLF", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n2\r\nabc0\r\n\r\n",
         Verdict::kAgree},
        {"space before colon", "GET / HTTP/1.1\r\n" + h + "X-Y : z\r\n\r\n", Verdict::kStricter,
         "RFC 9112 §5.1: a server must refuse white space between name and colon"},
        {"NUL in a value", std::string("GET / HTTP/1.1\r\n") + h + std::string("X: a\0b\r\n\r\n", 10), Verdict::kAgree},
        {"space in target", "GET /a b HTTP/1.1\r\n" + h + "\r\n", Verdict::kAgree},
        {"bad header name", "GET / HTTP/1.1\r\n" + h + "X(Y): z\r\n\r\n", Verdict::kAgree},
        {"truncated head", "GET / HTTP/1.1\r\n" + h, Verdict::kAgree},
        {"truncated body", "POST / HTTP/1.1\r\n" + h + "Content-Length: 10\r\n\r\nabc", Verdict::kAgree},
        {"final coding not chunked", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked, gzip\r\n\r\n",
         Verdict::kAgree},
        {"Content-Length overflow", "POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999999\r\n\r\n",
         Verdict::kAgree},
        {"request smuggled behind a body", "POST / HTTP/1.1\r\n" + h + "Content-Length: 0\r\n\r\nGET /admin HTTP/1.1\r\n" + h +
         "\r\n", Verdict::kAgree},
        // Where we are stricter than http-parser.
        {"obs-fold", "GET / HTTP/1.1\r\n" + h + "X-Folded: a\r\n b\r\n\r\n", Verdict::kStricter,
         "RFC 9112 §5.2: a server must refuse obs-fold or replace it; we refuse"},
        {"bare LF line ends", "GET / HTTP/1.1\nHost: example.org\n\n", Verdict::kStricter,
         "RFC 9112 §2.2 only allows, never requires, accepting a bare LF"},
        {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", Verdict::kStricter, "RFC 9112 §3.2: must answer 400"},
        {"two Host headers", "GET / HTTP/1.1\r\n" + h + h + "\r\n", Verdict::kStricter, "RFC 9112 §3.2: must answer 400"},
        {"HTTP/2.0 on an HTTP/1 connection", "GET / HTTP/2.0\r\n" + h + "\r\n", Verdict::kStricter,
         "we answer 505; http-parser takes any digit"},
        {"gzip before chunked", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
         Verdict::kStricter, "we implement no transfer coding but chunked: 501"},
        {"identical Content-Lengths", "POST / HTTP/1.1\r\n" + h + "Content-Length: 2\r\nContent-Length: 2\r\n\r\nab",
         Verdict::kAgree},
        {"Transfer-Encoding on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         Verdict::kStricter, "RFC 9112 §6.1: faulty framing; close"},
        {"malformed chunk extension", "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n1;a b\r\nx\r\n0\r\n\r\n",
         Verdict::kStricter, "chunk-ext grammar (RFC 9112 §7.1.1)"},
        {"DEL in target", "GET /a\x7f HTTP/1.1\r\n" + h + "\r\n", Verdict::kAgree},
        {"non-ASCII target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + h + "\r\n", Verdict::kStricter,
         "request-target is visible ASCII; clients percent-encode"},
        // Where http-parser is stricter: it knows a fixed list of methods.
        {"extension method", "FROBNICATE / HTTP/1.1\r\n" + h + "\r\n", Verdict::kWider,
         "RFC 9110 §9.1: any token is a method; the application answers 405/501"},
    };
}

}  // namespace

AIO_REAL_TEST(ParserDifferential, AgreesWithHttpParserExceptWhereDocumented) {
    std::size_t agree = 0, both_accept = 0, stricter = 0, wider = 0;
    for (const auto& c : corpus()) {
        Parsed ours = co_await parse_ours(c.message);
        Parsed theirs = parse_theirs(c.message);
        switch (c.verdict) {
        case Verdict::kAgree:
            EXPECT_EQ(ours, theirs) << c.name;
            ++agree;
            both_accept += ours.accepted && theirs.accepted ? 1 : 0;
            break;
        case Verdict::kStricter:
            EXPECT_FALSE(ours.accepted) << c.name << ": " << ours;
            EXPECT_TRUE(theirs.accepted) << c.name << " (http-parser changed? " << c.why << ")";
            ++stricter;
            break;
        case Verdict::kWider:
            EXPECT_TRUE(ours.accepted) << c.name;
            EXPECT_FALSE(theirs.accepted) << c.name << " (" << c.why << ")";
            ++wider;
            break;
        }
    }
    EXPECT_GT(agree, 25u);
    EXPECT_GE(both_accept, 16u);  // the valid messages really parse, on both sides
    ::testing::Test::RecordProperty("agree", static_cast<int>(agree));
    ::testing::Test::RecordProperty("stricter", static_cast<int>(stricter));
    ::testing::Test::RecordProperty("wider", static_cast<int>(wider));
}
