#include "aio/http/client.hpp"

#include <zlib.h>

#include <functional>
#include <map>

#include "aio/http/server.hpp"
#include "aio/net/dns.hpp"
#include "aio/tasks.hpp"
#include "fake_dns.hpp"
#include "aio/http/wire.hpp"
#include "aio/net/streams.hpp"
#include "test_loop.hpp"
#include "tls_certs.hpp"

using namespace std::chrono_literals;
using aio::http::ClientResponse;
using aio::http::ClientSession;

namespace {

struct Seen {
    std::string method, target, body;
    aio::http::Headers headers;
    int connection = 0;  // which accepted connection carried it
};

// A scripted HTTP/1.1 server on loopback: `answer` returns the raw response bytes for each
// request ("" closes the connection without answering).
struct RawServer {
    std::function<std::string(const Seen&)> answer;
    std::vector<Seen> seen;
    int connections = 0;
    aio::Server server;

    static aio::Coro<RawServer*> start(RawServer& s) {
        s.server = co_await aio::start_server(
            [&s](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Coro<> {
                const int conn = ++s.connections;
                try {
                    for (;;) {
                        auto head = co_await aio::http::read_request_head(reader);
                        if (!head) break;
                        aio::http::BodyReader body(reader, aio::http::request_framing(*head));
                        std::string text = co_await body.read_all();
                        Seen req{head->method, head->target, std::move(text), head->headers, conn};
                        s.seen.push_back(req);
                        std::string out = s.answer(req);
                        if (out.empty()) break;
                        writer.write(out);
                        co_await writer.drain();
                        if (out.find("Connection: close") != std::string::npos) break;
                    }
                } catch (const std::exception&) {
                }
                writer.close();
            },
            "127.0.0.1", 0);
        co_return &s;
    }
    std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(server.port()) + std::string(path); }
    aio::Coro<> stop() {
        server.close();
        co_await server.wait_closed();
    }
};

aio::AsyncGenerator<std::string> pieces(std::vector<std::string> parts, bool* finished) {
    for (auto& p : parts) {
        co_await aio::sleep(1ms);  // produced over time, as a file read or a transform would
        co_yield std::move(p);
    }
    *finished = true;
}

std::string ok(std::string_view body, std::string_view extra = "") {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) + "\r\n" +
           std::string(body);
}

std::string gzip(std::string_view data, int window_bits = 16 + MAX_WBITS) {
    z_stream z{};
    deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
    std::string out(compressBound(static_cast<uLong>(data.size())) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

aio::Coro<> fetch_body(ClientSession& session, std::string url) {
    auto resp = co_await session.get(url);
    (void)co_await resp.read();
}

// An App that sets cookies and echoes the Cookie header it receives ("<none>" without).
aio::http::App cookie_app() {
    using aio::http::Request;
    using aio::http::Response;
    aio::http::App app;
    app.get("/echo", [](Request& req) -> aio::Coro<std::string> {
        co_return std::string(req.headers().get("cookie", "<none>"));
    });
    app.get("/login", [](Request&) -> aio::Coro<Response> {
        Response r = Response::text("welcome");
        r.set_cookie("session", "s3cr3t");
        co_return r;
    });
    app.get("/logout", [](Request&) -> aio::Coro<Response> {
        Response r = Response::text("bye");
        r.delete_cookie("session");
        co_return r;
    });
    app.get("/hop", [](Request&) -> aio::Coro<Response> {
        Response r = Response::redirect("/echo");
        r.set_cookie("hop", "1");
        co_return r;
    });
    app.get("/away", [](Request& req) -> aio::Coro<Response> {
        // The same server under another name: another origin.
        std::string host(req.headers().get("host", ""));
        co_return Response::redirect("http://localhost" + host.substr(host.rfind(':')) + "/echo");
    });
    return app;
}

aio::Coro<std::string> get_text(ClientSession& session, std::string url, aio::http::RequestOptions options = {}) {
    auto resp = co_await session.get(url, options);
    co_return co_await resp.text();
}

}  // namespace

AIO_REAL_TEST(Client, GetReusesTheKeepAliveConnection) {
    RawServer s;
    s.answer = [](const Seen& r) { return ok("hello " + r.target); };
    co_await RawServer::start(s);
    {
        ClientSession session;
        for (int i = 0; i < 3; ++i) {
            ClientResponse resp = co_await session.get(s.url("/n" + std::to_string(i)));
            EXPECT_EQ(resp.status(), 200);
            EXPECT_EQ(resp.reason(), "OK");
            EXPECT_EQ(co_await resp.text(), "hello /n" + std::to_string(i));
        }
        EXPECT_EQ(s.connections, 1);
        EXPECT_EQ(session.idle_connections(), 1u);
        CO_ASSERT_EQ(s.seen.size(), 3u);
        EXPECT_EQ(s.seen[0].headers.get("host"), "127.0.0.1:" + std::to_string(s.server.port()));
        EXPECT_NE(s.seen[0].headers.get("user-agent", "").find("aiocpp/"), std::string_view::npos);
        co_await session.close();
    }
    co_await s.stop();
}

AIO_REAL_TEST(Client, ParamsHeadersJsonFormAndAuth) {
    RawServer s;
    s.answer = [](const Seen&) { return ok("{\"ok\": true}", "Content-Type: application/json\r\n"); };
    co_await RawServer::start(s);
    ClientSession session({.headers = {{"X-Session", "1"}}});
    nlohmann::json payload = {{"name", "x"}, {"n", 2}};
    const std::string items = s.url("/items") + "?a=1";
    // Options holding lists are built first (g++ 12 cannot take them inside co_await).
    aio::http::RequestOptions post_options{.params = {{"b", "two words"}}, .headers = {{"X-Req", "y"}},
                                           .json = &payload, .auth = {{"user", "pa:ss"}}};
    auto r1 = co_await session.post(items, post_options);
    nlohmann::json j = co_await r1.json();
    EXPECT_EQ(j["ok"], true);
    aio::http::RequestOptions form_options{.form = {{"k", "v&w"}}};
    auto r2 = co_await session.put(s.url("/form"), form_options);
    (void)co_await r2.read();
    CO_ASSERT_EQ(s.seen.size(), 2u);
    EXPECT_EQ(s.seen[0].method, "POST");
    EXPECT_EQ(s.seen[0].target, "/items?a=1&b=two+words");
    EXPECT_EQ(s.seen[0].headers.get("x-session"), "1");
    EXPECT_EQ(s.seen[0].headers.get("x-req"), "y");
    EXPECT_EQ(s.seen[0].headers.get("content-type"), "application/json");
    EXPECT_EQ(nlohmann::json::parse(s.seen[0].body), payload);
    EXPECT_EQ(s.seen[0].headers.get("authorization"), "Basic dXNlcjpwYTpzcw==");
    EXPECT_EQ(s.seen[1].body, "k=v%26w");
    EXPECT_EQ(s.seen[1].headers.get("content-type"), "application/x-www-form-urlencoded");
    co_await session.close();
    co_await s.stop();
}

AIO_REAL_TEST(Client, ChunkedGzipAndDeflateBodies) {
    RawServer s;
    const std::string text(50000, 'z');
    s.answer = [&](const Seen& r) {
        if (r.target == "/gzip") return ok(gzip(text), "Content-Encoding: gzip\r\n");
        if (r.target == "/deflate") return ok(gzip(text, MAX_WBITS), "Content-Encoding: deflate\r\n");
        if (r.target == "/raw-deflate") return ok(gzip(text, -MAX_WBITS), "Content-Encoding: deflate\r\n");
        std::string body = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        aio::http::append_chunk(body, "hello, ");
        aio::http::append_chunk(body, "chunks");
        return body + std::string(aio::http::kLastChunk);
    };
    co_await RawServer::start(s);
    ClientSession session;
    for (const char* path : {"/gzip", "/deflate", "/raw-deflate"}) {
        auto resp = co_await session.get(s.url(path));
        EXPECT_EQ(co_await resp.read(), text) << path;
    }
    auto chunked = co_await session.get(s.url("/chunked"));
    EXPECT_EQ(co_await chunked.text(), "hello, chunks");
    EXPECT_EQ(s.connections, 1);  // every body was read to its end: one connection throughout
    co_await session.close();
    co_await s.stop();
}

AIO_REAL_TEST(Client, RedirectsRewriteMethodsAndStopAtTheLimit) {
    RawServer s;
    s.answer = [](const Seen& r) -> std::string {
        if (r.target == "/see-other") return "HTTP/1.1 303 See Other\r\nLocation: /target\r\nContent-Length: 0\r\n\r\n";
        if (r.target == "/temporary") return "HTTP/1.1 307 Temporary Redirect\r\nLocation: target\r\nContent-Length: 0\r\n\r\n";
        if (r.target == "/loop") return "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n";
        return ok(r.method + " " + r.body);
    };
    co_await RawServer::start(s);
    ClientSession session;
    auto r1 = co_await session.post(s.url("/see-other"), {.data = "payload"});
    EXPECT_EQ(co_await r1.text(), "GET ");
    CO_ASSERT_EQ(r1.history().size(), 1u);
    EXPECT_EQ(r1.history()[0].status, 303);
    EXPECT_EQ(r1.url().path(), "/target");
    auto r2 = co_await session.post(s.url("/temporary"), {.data = "payload"});
    EXPECT_EQ(co_await r2.text(), "POST payload");
    auto r3 = co_await session.get(s.url("/see-other"), {.allow_redirects = false});
    EXPECT_EQ(r3.status(), 303);
    r3.release();
    int status = 0;
    try {
        (void)co_await session.get(s.url("/loop"), {.max_redirects = 3});
    } catch (const aio::http::TooManyRedirects& e) {
        status = e.status();
        EXPECT_NE(std::string(e.what()).find("/loop"), std::string::npos);
    }
    EXPECT_EQ(status, 302);
    co_await session.close();
    co_await s.stop();
}

AIO_REAL_TEST(Client, RaiseForStatusCarriesStatusUrlAndRetryAfter) {
    RawServer s;
    s.answer = [](const Seen&) { return "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nbusy"; };
    co_await RawServer::start(s);
    ClientSession session;
    auto resp = co_await session.get(s.url("/x"));
    EXPECT_FALSE(resp.ok());
    try {
        resp.raise_for_status();
        ADD_FAILURE() << "no error";
    } catch (const aio::http::ClientResponseError& e) {
        EXPECT_EQ(e.status(), 503);
        EXPECT_EQ(e.retry_after(), std::chrono::seconds(7));
        EXPECT_NE(std::string(e.what()).find(s.url("/x")), std::string::npos);
    }
    co_await session.close();
    co_await s.stop();
}

AIO_REAL_TEST(Client, ShortBodyIsAPayloadErrorAndTheConnectionIsNotReused) {
    RawServer s;
    s.answer = [](const Seen& r) -> std::string {
        if (r.target == "/short") return "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly this";
        return ok("fine");
    };
    co_await RawServer::start(s);
    ClientSession session;
    auto resp = co_await session.get(s.url("/short"));
    std::string what;
    try {
        (void)co_await resp.read();
    } catch (const aio::http::ClientPayloadError& e) {
        what = e.what();
    }
    EXPECT_NE(what.find("after 9 of 100 body bytes"), std::string::npos) << what;
    EXPECT_NE(what.find("/short"), std::string::npos) << what;
    auto next = co_await session.get(s.url("/ok"));
    EXPECT_EQ(co_await next.text(), "fine");
    EXPECT_EQ(s.connections, 2);
    co_await session.close();
    co_await s.stop();
}

AIO_REAL_TEST(Client, StalePooledConnectionIsRetriedOnce) {
    RawServer s;
    int n = 0;
    s.answer = [&](const Seen&) -> std::string {
        ++n;
        return n == 2 ? std::string() : ok("v" + std::to_string(n));  // the 2nd request: close without answer
    };
    co_await RawServer::start(s);
    ClientSession session;
    auto r1 = co_await session.get(s.url("/a"));
    EXPECT_EQ(co_await r1.text(), "v1");
    auto r2 = co_await session.get(s.url("/b"));  // reused connection dies: retried on a new one
    EXPECT_EQ(co_await r2.text(), "v3");
    EXPECT_EQ(s.connections, 2);
    co_await session.close();
    co_await s.stop();
}

AIO_REAL_TEST(Client, ConnectionErrorsNameTheAddress) {
    ClientSession session;
    std::string what;
    try {
        (void)co_await session.get("http://127.0.0.1:1/x");
    } catch (const aio::http::ClientConnectorError& e) {
        what = e.what();
    }
    EXPECT_NE(what.find("127.0.0.1:1"), std::string::npos) << what;
    EXPECT_THROW((void)co_await session.get("ftp://h/x"), aio::http::InvalidURL);
    co_await session.close();
    EXPECT_THROW((void)co_await session.get("http://127.0.0.1:1/x"), aio::RuntimeError);
}

AIO_REAL_TEST(Client, SockReadTimeoutAndTotalTimeoutSayWhich) {
    RawServer s;
    s.answer = [](const Seen&) { return std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npartial"); };
    co_await RawServer::start(s);
    ClientSession session;
    std::string what;
    auto resp = co_await session.get(s.url("/slow"), {.timeout = aio::http::ClientTimeout{.sock_read = 50ms}});
    try {
        (void)co_await resp.read();
    } catch (const aio::http::SocketTimeoutError& e) {
        what = e.what();
    }
    EXPECT_NE(what.find("sock_read timeout of 50 ms"), std::string::npos) << what;
    what.clear();
    auto resp2 = co_await session.get(s.url("/slow"), {.timeout = aio::http::ClientTimeout{.total = 80ms}});
    try {
        (void)co_await resp2.read();
    } catch (const aio::TimeoutError& e) {
        what = e.what();
    }
    EXPECT_NE(what.find("total timeout"), std::string::npos) << what;
    // Inside aio::timeout the caller's deadline bounds the request (not the session's
    // five minutes), and the interrupted connection is not reused.
    const auto before = aio::get_running_loop().time();
    bool timed_out = false;
    try {
        co_await aio::timeout(60ms, [&]() -> aio::Coro<> {
            auto r = co_await session.get(s.url("/slow"));
            (void)co_await r.read();
        });
    } catch (const aio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_LT(aio::get_running_loop().time() - before, 10s);
    EXPECT_EQ(session.idle_connections(), 0u);
    co_await session.close();
    co_await s.stop();
}

AIO_REAL_TEST(Client, LimitPerHostQueuesRequestsFairly) {
    RawServer s;
    s.answer = [](const Seen& r) { return ok(r.target); };
    co_await RawServer::start(s);
    ClientSession session({.limit = 10, .limit_per_host = 2});
    std::vector<std::string> order;
    auto one = [&](int i) -> aio::Coro<> {
        auto resp = co_await session.get(s.url("/" + std::to_string(i)));
        order.push_back(co_await resp.text());
    };
    std::vector<aio::Coro<>> all;
    for (int i = 0; i < 8; ++i) all.push_back(one(i));
    co_await aio::gather(std::move(all));
    EXPECT_EQ(order.size(), 8u);
    EXPECT_LE(s.connections, 2);  // never more than two at once to this host
    co_await session.close();
    co_await s.stop();
}

AIO_REAL_TEST(Client, CancelledRequestsNeverLeaveAHalfUsedConnectionInThePool) {
    RawServer s;
    s.answer = [](const Seen& r) { return ok("body of " + r.target); };
    co_await RawServer::start(s);
    ClientSession session({.limit = 4});
    // Cancel at every point from connect to the end of the body, many times, and check
    // each following request gets its own, complete answer.
    for (int i = 0; i < 60; ++i) {
        auto victim = aio::create_task(fetch_body(session, s.url("/v" + std::to_string(i))));
        for (int k = 0; k < i % 6; ++k) co_await aio::sleep(0ms);
        victim.cancel();
        try {
            co_await victim;
        } catch (const aio::CancelledError&) {
        }
        auto check = co_await session.get(s.url("/c" + std::to_string(i)));
        EXPECT_EQ(co_await check.text(), "body of /c" + std::to_string(i));
    }
    co_await session.close();
    co_await s.stop();
}

AIO_REAL_TEST(Client, HttpsVerifiesTheServer) {
    static aio::test::TestCertificates certs;
    auto server_ctx = aio::SSLContext::create_default_context(aio::Purpose::client_auth);
    server_ctx.load_cert_chain(certs.server.cert, certs.server.key);
    auto bad_ctx = aio::SSLContext::create_default_context(aio::Purpose::client_auth);
    bad_ctx.load_cert_chain(certs.self_signed.cert, certs.self_signed.key);
    auto handler = [](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Coro<> {
        try {
            auto head = co_await aio::http::read_request_head(reader);
            if (head) {
                writer.write(ok("secure"));
                co_await writer.drain();
            }
        } catch (const std::exception&) {
        }
        writer.close();
    };
    aio::Server good = co_await aio::start_server(handler, "127.0.0.1", 0, {.ssl = &server_ctx});
    aio::Server bad = co_await aio::start_server(handler, "127.0.0.1", 0, {.ssl = &bad_ctx});
    auto client_ctx = aio::SSLContext::create_default_context();
    client_ctx.load_verify_locations(certs.ca_file);
    {
        ClientSession session({.ssl = &client_ctx});
        auto resp = co_await session.get("https://localhost:" + std::to_string(good.port()) + "/");
        EXPECT_EQ(co_await resp.text(), "secure");
        std::string what;
        try {
            (void)co_await session.get("https://localhost:" + std::to_string(bad.port()) + "/");
        } catch (const aio::http::ClientConnectorCertificateError& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
        co_await session.close();
    }
    {
        ClientSession insecure({.verify_ssl = false});
        auto resp = co_await insecure.get("https://localhost:" + std::to_string(bad.port()) + "/");
        EXPECT_EQ(co_await resp.text(), "secure");
        co_await insecure.close();
    }
    good.close();
    bad.close();
    co_await good.wait_closed();
    co_await bad.wait_closed();
    loop.take_reports();  // the refused handshake is reported by the server side
}

AIO_REAL_TEST(Client, SessionKeepsCookiesAndSendsThemBack) {
    aio::http::App app = cookie_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    {
        ClientSession session;
        EXPECT_EQ(co_await get_text(session, base + "/echo"), "<none>");
        EXPECT_EQ(co_await get_text(session, base + "/login"), "welcome");
        CO_ASSERT_EQ(session.cookie_jar().size(), 1u);
        const aio::http::Cookie c = session.cookie_jar().cookies().front();
        EXPECT_EQ(c.domain, "127.0.0.1");
        EXPECT_TRUE(c.host_only);
        EXPECT_TRUE(c.http_only);
        EXPECT_EQ(c.same_site, "Lax");
        EXPECT_EQ(co_await get_text(session, base + "/echo"), "session=s3cr3t");
        EXPECT_EQ(co_await get_text(session, base + "/echo"), "session=s3cr3t");
        // Another host is not sent the cookie.
        EXPECT_EQ(co_await get_text(session, "http://localhost:" + std::to_string(server.port()) + "/echo"), "<none>");
        // Max-Age=0 from the server deletes it.
        EXPECT_EQ(co_await get_text(session, base + "/logout"), "bye");
        EXPECT_EQ(session.cookie_jar().size(), 0u);
        EXPECT_EQ(co_await get_text(session, base + "/echo"), "<none>");
        co_await session.close();
    }
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Client, ACookieSetOnARedirectGoesToItsTarget) {
    aio::http::App app = cookie_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    {
        ClientSession session;
        auto resp = co_await session.get(base + "/hop");
        EXPECT_EQ(co_await resp.text(), "hop=1");
        CO_ASSERT_EQ(resp.history().size(), 1u);
        EXPECT_EQ(resp.history()[0].status, 302);
        // With the caller's Cookie header and cookies: theirs, the jar's, the request's.
        aio::http::RequestOptions mixed{.headers = {{"Cookie", "mine=1"}}, .cookies = {{"extra", "2"}}};
        auto again = co_await session.get(base + "/hop", mixed);
        EXPECT_EQ(co_await again.text(), "mine=1; hop=1; extra=2");
        co_await session.close();
    }
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Client, PerRequestCookiesAreSentAndReplaceTheJarsNamesake) {
    aio::http::App app = cookie_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    {
        ClientSession session;
        aio::http::RequestOptions with_cookies{.cookies = {{"a", "1"}, {"b", "two"}}};
        EXPECT_EQ(co_await get_text(session, base + "/echo", with_cookies), "a=1; b=two");
        EXPECT_EQ(session.cookie_jar().size(), 0u);  // not stored
        EXPECT_EQ(co_await get_text(session, base + "/echo"), "<none>");
        (void)co_await get_text(session, base + "/login");
        aio::http::RequestOptions override_session{.cookies = {{"session", "mine"}}};
        EXPECT_EQ(co_await get_text(session, base + "/echo", override_session), "session=mine");
        aio::http::RequestOptions header{.headers = {{"Cookie", "pref=dark"}}};
        EXPECT_EQ(co_await get_text(session, base + "/echo", header), "pref=dark; session=s3cr3t");
        // A cookie that would split the header is refused before anything is sent.
        aio::http::RequestOptions bad{.cookies = {{"x", "1; admin=1"}}};
        EXPECT_THROW((void)co_await session.get(base + "/echo", bad), aio::ValueError);
        co_await session.close();
    }
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Client, TheCallersCookiesAreNotSentToAnotherOrigin) {
    aio::http::App app = cookie_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    {
        ClientSession session;
        (void)co_await get_text(session, base + "/login");
        aio::http::RequestOptions given{.headers = {{"Cookie", "mine=1"}}, .cookies = {{"extra", "2"}}};
        auto resp = co_await session.get(base + "/away", given);
        EXPECT_EQ(co_await resp.text(), "<none>");
        EXPECT_EQ(resp.url().host(), "localhost");
        co_await session.close();
    }
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Client, WithoutACookieJarNothingIsKeptOrSent) {
    aio::http::App app = cookie_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    {
        ClientSession session({.use_cookie_jar = false});
        (void)co_await get_text(session, base + "/login");
        (void)co_await get_text(session, base + "/hop");
        EXPECT_EQ(session.cookie_jar().size(), 0u);
        session.cookie_jar().set("manual", "1", "127.0.0.1");
        EXPECT_EQ(co_await get_text(session, base + "/echo"), "<none>");
        aio::http::RequestOptions with_cookies{.cookies = {{"a", "1"}}};
        EXPECT_EQ(co_await get_text(session, base + "/echo", with_cookies), "a=1");
        co_await session.close();
    }
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Client, SessionsCanShareACookieJar) {
    aio::http::App app = cookie_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    {
        aio::http::CookieJar jar;
        jar.set("preset", "p", "127.0.0.1");
        ClientSession first({.cookie_jar = &jar});
        ClientSession second({.cookie_jar = &jar});
        EXPECT_EQ(&first.cookie_jar(), &jar);
        (void)co_await get_text(first, base + "/login");
        EXPECT_EQ(co_await get_text(second, base + "/echo"), "preset=p; session=s3cr3t");
        co_await first.close();
        co_await second.close();
    }
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Client, AStreamedBodyIsSentChunkedAsItIsGenerated) {
    RawServer s;
    s.answer = [](const Seen& r) -> std::string {
        if (r.target == "/temporary") return "HTTP/1.1 307 Temporary Redirect\r\nLocation: /upload\r\nContent-Length: 0\r\n\r\n";
        if (r.target == "/see-other") return "HTTP/1.1 303 See Other\r\nLocation: /upload\r\nContent-Length: 0\r\n\r\n";
        return ok(r.method + " " + r.body);
    };
    co_await RawServer::start(s);
    ClientSession session;
    bool finished = false;
    auto body = pieces({"first,", "", std::string(100'000, 'x'), ",last"}, &finished);
    aio::http::RequestOptions upload{.stream = &body};
    auto r = co_await session.post(s.url("/upload"), upload);
    EXPECT_TRUE(co_await r.text() == "POST first," + std::string(100'000, 'x') + ",last");
    EXPECT_TRUE(finished);
    CO_ASSERT_EQ(s.seen.size(), 1u);
    EXPECT_EQ(s.seen[0].headers.get("Transfer-Encoding", ""), "chunked");
    EXPECT_FALSE(s.seen[0].headers.contains("Content-Length"));
    EXPECT_EQ(s.seen[0].headers.get("Content-Type", ""), "application/octet-stream");

    // 303: the redirect is a GET without the body, which is fine.
    auto again = pieces({"a", "b"}, &finished);
    aio::http::RequestOptions see_other{.stream = &again};
    auto r2 = co_await session.post(s.url("/see-other"), see_other);
    EXPECT_EQ(co_await r2.text(), "GET ");
    // 307 would need the consumed body again: a clear error, not a silently empty body.
    auto once = pieces({"only once"}, &finished);
    aio::http::RequestOptions temporary{.stream = &once};
    std::string message;
    try {
        (void)co_await session.post(s.url("/temporary"), temporary);
    } catch (const aio::http::ClientError& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("streamed"), std::string::npos) << message;
    co_await session.close();
    co_await s.stop();
}

AIO_REAL_TEST(Client, NewConnectionsToOneHostShareADnsLookup) {
    aio::test::FakeDns dns;
    dns.add("svc.example", {"127.0.0.1"});
    aio::dns::configure({.servers = dns.address(), .timeout = 2s, .tries = 1});
    aio::http::App app;
    app.get("/slow", [](aio::http::Request&) -> aio::Coro<std::string> {
        co_await aio::sleep(20ms);  // keeps each connection busy, so every request opens one
        co_return std::string("ok");
    });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string url = "http://svc.example:" + std::to_string(server.port()) + "/slow";
    auto fetch_all = [&](ClientSession& session, int n) -> aio::Coro<> {
        std::vector<aio::Task<ClientResponse>> requests;
        for (int i = 0; i < n; ++i) requests.push_back(aio::create_task(session.get(url)));
        auto responses = co_await aio::gather(requests);
        for (auto& r : responses) EXPECT_EQ(co_await r.text(), "ok");
    };
    {
        ClientSession cached;
        co_await fetch_all(cached, 4);
        const int one_lookup = dns.queries();  // A and AAAA at most
        EXPECT_GE(one_lookup, 1);
        EXPECT_LE(one_lookup, 2);
        cached.clear_dns_cache("svc.example");
        co_await fetch_all(cached, 8);  // 4 pooled connections and 4 new ones
        EXPECT_GT(dns.queries(), one_lookup);
        co_await cached.close();
    }
    {
        const int before = dns.queries();
        ClientSession uncached({.ttl_dns_cache = std::nullopt});
        co_await fetch_all(uncached, 4);
        EXPECT_GE(dns.queries() - before, 4);  // one lookup per connection
        co_await uncached.close();
    }
    server.close();
    co_await server.wait_closed();
}
