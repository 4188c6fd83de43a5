#include "aio/http/server.hpp"

#include <unistd.h>

#include <sstream>
#include <thread>

#include "aio/http/client.hpp"
#include "aio/http/wire.hpp"
#include "aio/net/streams.hpp"
#include "aio/net/subprocess.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;
using aio::http::App;
using aio::http::Request;
using aio::http::Response;
using nlohmann::json;

namespace {

// Sends `bytes` and returns everything the server sends back until it closes (or 5 s).
aio::Coro<std::string> exchange(std::uint16_t port, std::string bytes, bool half_close = false) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write(bytes);
    co_await writer.drain();
    if (half_close) writer.write_eof();
    std::string all;
    try {
        all = co_await aio::wait_for(reader.read(), 5s);
    } catch (const aio::TimeoutError&) {
        all += "<still open>";
    }
    writer.close();
    co_return all;
}

std::string get(std::string_view target, std::string_view extra = "") {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + std::string(extra) + "\r\n";
}

int status_of(std::string_view response) {
    if (response.size() < 12) return 0;
    return std::stoi(std::string(response.substr(9, 3)));
}

std::string body_of(std::string_view response) {
    auto end = response.find("\r\n\r\n");
    return end == std::string_view::npos ? std::string() : std::string(response.substr(end + 4));
}

struct Item {
    std::string name;
    int qty;
};
void from_json(const json& j, Item& i) {
    j.at("name").get_to(i.name);
    j.at("qty").get_to(i.qty);
}

App make_app() {
    App app;
    app.get("/", [](Request&) -> aio::Coro<json> { co_return json{{"hello", "world"}}; });
    app.get("/users/{id:int}", [](Request& req) -> aio::Coro<Response> {
        const long id = req.path_param<long>("id");
        if (id == 0) throw aio::http::HTTPException(404, "no such user");
        co_return Response::json(json{{"id", id}, {"verbose", req.query("verbose").value_or("no")}});
    });
    app.get("/users/me", [](Request&) -> aio::Coro<std::string> { co_return std::string("me"); });
    app.get("/files/{rest:path}", [](Request& req) -> aio::Coro<std::string> { co_return std::string(req.path_param("rest")); });
    app.post("/items", [](Request& req) -> aio::Coro<Response> {
        json body = co_await req.json();
        Item item = body.get<Item>();
        co_return Response::json(json{{"name", item.name}, {"qty", item.qty}}, 201);
    });
    app.get("/thread", [](Request&) -> std::string {
        std::ostringstream os;
        os << std::this_thread::get_id();
        return os.str();
    });
    app.get("/boom", [](Request&) -> aio::Coro<std::string> {
        throw std::runtime_error("handler exploded");
        co_return std::string();
    });
    app.get("/slow", [](Request&) -> aio::Coro<std::string> {
        co_await aio::sleep(200ms);
        co_return std::string("slow done");
    });
    return app;
}

}  // namespace

AIO_REAL_TEST(Server, RoutesParamsAndErrors) {
    App app = make_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const auto port = server.port();
    auto r = co_await exchange(port, get("/"));
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(body_of(r), R"({"hello":"world"})");
    EXPECT_NE(r.find("Content-Type: application/json"), std::string::npos);
    EXPECT_NE(r.find("Server: aiocpp"), std::string::npos);
    EXPECT_NE(r.find("Date: "), std::string::npos);
    const std::string with_query = get("/users/42" "?verbose=yes");
    EXPECT_EQ(body_of(co_await exchange(port, with_query)), R"({"id":42,"verbose":"yes"})");
    EXPECT_EQ(body_of(co_await exchange(port, get("/users/me"))), "me");  // literal wins
    EXPECT_EQ(status_of(co_await exchange(port, get("/users/abc"))), 404);  // {id:int} does not match
    auto nf = co_await exchange(port, get("/users/0"));
    EXPECT_EQ(status_of(nf), 404);
    EXPECT_EQ(body_of(nf), R"({"detail":"no such user"})");
    EXPECT_EQ(body_of(co_await exchange(port, get("/files/a/b%20c.txt"))), "a/b c.txt");
    auto not_allowed = co_await exchange(port, "DELETE /users/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(not_allowed), 405);
    EXPECT_NE(not_allowed.find("Allow: GET, HEAD"), std::string::npos) << not_allowed;
    auto head = co_await exchange(port, "HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(head), 200);
    EXPECT_NE(head.find("Content-Length: 17"), std::string::npos);
    EXPECT_EQ(body_of(head), "");
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Server, JsonBodiesGive400And422) {
    App app = make_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    auto post = [&](std::string body) {
        return exchange(server.port(), "POST /items HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: " +
                                           std::to_string(body.size()) + "\r\n\r\n" + body);
    };
    auto ok = co_await post(R"({"name":"pen","qty":3})");
    EXPECT_EQ(status_of(ok), 201);
    EXPECT_EQ(body_of(ok), R"({"name":"pen","qty":3})");
    auto bad = co_await post("{not json");
    EXPECT_EQ(status_of(bad), 400);
    EXPECT_NE(body_of(bad).find("Invalid JSON body"), std::string::npos);
    auto missing = co_await post(R"({"name":"pen"})");
    EXPECT_EQ(status_of(missing), 422);
    EXPECT_NE(body_of(missing).find("qty"), std::string::npos) << missing;
    auto mistyped = co_await post(R"({"name":"pen","qty":"three"})");
    EXPECT_EQ(status_of(mistyped), 422);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Server, MiddlewareWrapsInOrderAndCanShortCircuit) {
    App app;
    std::vector<std::string> trace;
    app.middleware([&](Request& req, aio::http::Next next) -> aio::Coro<Response> {
        trace.push_back("outer before");
        Response resp = co_await next(req);
        trace.push_back("outer after");
        resp.headers().set("X-Outer", "1");
        co_return resp;
    });
    app.middleware([&](Request& req, aio::http::Next next) -> aio::Coro<Response> {
        if (req.headers().get("authorization", "") != "secret") co_return Response::json(json{{"detail", "no"}}, 401);
        trace.push_back("inner");
        co_return co_await next(req);
    });
    app.get("/", [&](Request&) -> aio::Coro<std::string> {
        trace.push_back("handler");
        co_return std::string("ok");
    });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    auto denied = co_await exchange(server.port(), get("/"));
    EXPECT_EQ(status_of(denied), 401);
    EXPECT_NE(denied.find("X-Outer: 1"), std::string::npos);
    trace.clear();
    auto allowed = co_await exchange(server.port(), get("/", "Authorization: secret\r\n"));
    EXPECT_EQ(body_of(allowed), "ok");
    EXPECT_EQ(trace, (std::vector<std::string>{"outer before", "inner", "handler", "outer after"}));
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Server, PlainHandlersRunOffTheLoopThread) {
    App app = make_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    std::ostringstream me;
    me << std::this_thread::get_id();
    auto r = co_await exchange(server.port(), get("/thread"));
    EXPECT_EQ(status_of(r), 200);
    EXPECT_NE(body_of(r), me.str());
    EXPECT_FALSE(body_of(r).empty());
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Server, PipelinedRequestsAreAnsweredInOrderOnOneConnection) {
    App app = make_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    auto r = co_await exchange(server.port(), "GET /users/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /users/2 HTTP/1.1\r\nHost: t\r\n\r\n"
                                              "GET /users/3 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    auto first = r.find(R"({"id":1)"), second = r.find(R"({"id":2)"), third = r.find(R"({"id":3)");
    EXPECT_NE(first, std::string::npos);
    EXPECT_LT(first, second);
    EXPECT_LT(second, third);
    EXPECT_NE(third, std::string::npos);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Server, LimitsAndMalformedRequestsGetTheirStatus) {
    App app = make_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0, .max_head_size = 1024, .max_body_size = 100});
    const auto port = server.port();
    EXPECT_EQ(status_of(co_await exchange(port, get("/", "X-Big: " + std::string(2000, 'a') + "\r\n"))), 431);
    EXPECT_EQ(status_of(co_await exchange(port, "POST /items HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n")), 413);
    EXPECT_EQ(status_of(co_await exchange(port, "POST /items HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                "c8\r\n" + std::string(200, 'x') + "\r\n0\r\n\r\n")), 413);
    EXPECT_EQ(status_of(co_await exchange(port, "POST /items HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
                                                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")), 400);
    EXPECT_EQ(status_of(co_await exchange(port, "GET / HTTP/2.0\r\nHost: t\r\n\r\n")), 505);
    EXPECT_EQ(status_of(co_await exchange(port, "GET / HTTP/1.1\r\n\r\n")), 400);  // no Host
    EXPECT_EQ(status_of(co_await exchange(port, "POST /items HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n")), 501);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Server, SlowHeadsGet408AndIdleConnectionsClose) {
    App app = make_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0, .header_timeout = 100ms, .keepalive_timeout = 100ms});
    // slowloris: part of a head, then nothing
    auto partial = co_await exchange(server.port(), "GET / HTTP/1.1\r\nHost: t\r\n");
    EXPECT_EQ(status_of(partial), 408);
    // idle keep-alive: one request, then silence: the server closes without a word
    auto idle = co_await exchange(server.port(), "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(status_of(idle), 200);
    EXPECT_EQ(idle.find("<still open>"), std::string::npos);
    EXPECT_EQ(idle.find("HTTP/1.1 408"), std::string::npos);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Server, RequestTimeoutCancelsTheHandlerWith503) {
    App app = make_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0, .request_timeout = 50ms});
    auto r = co_await exchange(server.port(), get("/slow"));
    EXPECT_EQ(status_of(r), 503);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Server, AThrowingHandlerGets500AndServingGoesOn) {
    App app = make_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    auto r = co_await exchange(server.port(), "GET /boom HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(status_of(r), 500);
    EXPECT_NE(r.find(R"({"detail":"Internal Server Error"})"), std::string::npos);
    EXPECT_NE(r.find(R"({"hello":"world"})"), std::string::npos);  // same connection, next request
    auto reports = loop.take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].message.find("GET /boom"), std::string::npos);
    EXPECT_NE(aio::describe(reports[0].exception).find("handler exploded"), std::string::npos);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Server, BackgroundTasksRunAfterTheResponse) {
    App app;
    aio::Event done;
    app.get("/", [&](Request& req) -> aio::Coro<std::string> {
        req.add_background_task([&]() -> aio::Coro<> {
            co_await aio::sleep(100ms);
            done.set();
        });
        co_return std::string("queued");
    });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    writer.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    auto head = co_await aio::http::read_response_head(reader);
    CO_ASSERT_TRUE(head.has_value());
    aio::http::BodyReader body(reader, aio::http::response_framing(*head, "GET"));
    EXPECT_EQ(co_await body.read_all(), "queued");
    EXPECT_FALSE(done.is_set());  // the response came first
    co_await aio::timeout(5s, [&]() -> aio::Coro<> { co_await done.wait(); });
    writer.close();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Server, GracefulShutdownFinishesInFlightRequests) {
    App app = make_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    auto in_flight = aio::create_task(exchange(server.port(), get("/slow")));
    co_await aio::sleep(50ms);  // the request is being handled
    EXPECT_EQ(server.connection_count(), 1u);
    const auto port = server.port();
    auto shutting_down = aio::create_task(server.shutdown(5s));
    co_await aio::sleep(10ms);
    EXPECT_FALSE(shutting_down.done());
    // While the in-flight request finishes, new clients are refused.
    bool refused = false;
    try {
        auto streams = co_await aio::open_connection("127.0.0.1", port);
    } catch (const aio::ConnectionRefusedError&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
    co_await shutting_down;
    std::string r = co_await in_flight;
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(body_of(r), "slow done");
    EXPECT_EQ(server.connection_count(), 0u);
}

AIO_REAL_TEST(Server, ServeRunsLifespanHooksAroundServing) {
    App app = make_app();
    std::vector<std::string> events;
    app.on_startup([&]() -> aio::Coro<> {
        events.push_back("startup");
        co_return;
    });
    app.on_shutdown([&]() -> aio::Coro<> {
        events.push_back("shutdown");
        co_return;
    });
    auto serving = aio::create_task(aio::http::serve(app, {.port = 0}));
    co_await aio::sleep(20ms);
    EXPECT_EQ(events, std::vector<std::string>{"startup"});
    serving.cancel();
    try {
        co_await serving;
    } catch (const aio::CancelledError&) {
    }
    EXPECT_EQ(events, (std::vector<std::string>{"startup", "shutdown"}));
}

AIO_REAL_TEST(Server, OurClientAndCurlAgree) {
    App app = make_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    {
        aio::http::ClientSession session;
        for (int i = 1; i <= 3; ++i) {
            auto resp = co_await session.get(base + "/users/" + std::to_string(i));
            json j = co_await resp.json();
            EXPECT_EQ(j["id"], i);
        }
        EXPECT_EQ(server.connection_count(), 1u);  // keep-alive across the three
        co_await session.close();
    }
    if (::access("/usr/bin/curl", X_OK) == 0) {
        std::vector<std::string> args = {"-s", "-i", base + "/users/7"};
        aio::SubprocessOptions popts;
        popts.stdout_ = aio::Redirect::pipe;
        auto proc = co_await aio::create_subprocess_exec("/usr/bin/curl", args, popts);
        auto [out, err] = co_await proc.communicate();
        EXPECT_EQ(co_await proc.wait(), 0);
        EXPECT_NE(out.find(R"({"id":7,"verbose":"no"})"), std::string::npos) << out;
    }
    server.close();
    co_await server.wait_closed();
}
