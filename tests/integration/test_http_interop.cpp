// aio::http against real peers: our client against nginx (plain and TLS) and against
// Python's aiohttp server; Python's aiohttp client and curl against our server; wrk
// against our server as a smoke test.
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aio/aio.hpp"
#include "aio/http/client.hpp"
#include "aio/http/server.hpp"
#include "aio/net/subprocess.hpp"
#include "nginx.hpp"
#include "test_loop.hpp"
#include "tls_certs.hpp"

using namespace std::chrono_literals;
using aio::http::App;
using aio::http::ClientSession;
using aio::http::Request;
using nlohmann::json;

namespace {

const char* const kPython = "/usr/bin/python3";

bool have(const char* path) { return ::access(path, X_OK) == 0; }

bool python_has_aiohttp() {
    return have(kPython) && std::system("/usr/bin/python3 -c 'import aiohttp' >/dev/null 2>&1") == 0;
}

std::string script(const char* name) { return std::string(AIOCPP_INTEROP_SCRIPTS) + "/" + name; }

App test_app() {
    App app;
    app.get("/hello", [](Request& req) -> aio::Coro<json> {
        co_return json{{"greeting", "hello " + std::string(req.query("name").value_or("world"))}};
    });
    app.post("/echo", [](Request& req) -> aio::Coro<json> { co_return co_await req.json(); });
    app.get("/", [](Request&) -> aio::Coro<std::string> { co_return std::string("ok"); });
    return app;
}

std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

// A real-clock coroutine test that is skipped, with `reason`, unless `condition` holds.
#define INTEROP_TEST(name, condition, reason)                                    \
    static aio::Coro<void> name##_body(aio::test::TestLoop& loop);               \
    TEST(HttpInterop, name) {                                                    \
        if (!(condition)) GTEST_SKIP() << reason;                                \
        aio::test::TestLoop loop(false);                                         \
        loop.run_test(name##_body(loop));                                        \
    }                                                                            \
    static aio::Coro<void> name##_body([[maybe_unused]] aio::test::TestLoop& loop)

INTEROP_TEST(OurClientAgainstNginx, aio::test::NginxServer::available(), "nginx is not installed") {
    static aio::test::TestCertificates certs;
    aio::test::NginxServer nginx(certs.server.cert, certs.server.key);
    auto ctx = aio::SSLContext::create_default_context();
    ctx.load_verify_locations(certs.ca_file);
    ClientSession session({.ssl = &ctx});
    for (const std::string& base : {"http://127.0.0.1:" + std::to_string(nginx.http_port),
                                   "https://localhost:" + std::to_string(nginx.https_port)}) {
        auto index = co_await session.get(base + "/index.html");
        EXPECT_EQ(index.status(), 200);
        EXPECT_EQ(co_await index.text(), file_text(nginx.root + "/index.html"));
        auto big = co_await session.get(base + "/big.txt");  // gzip on the fly, hence chunked
        EXPECT_EQ(big.headers().get("content-encoding"), "gzip");
        EXPECT_EQ(big.headers().get("transfer-encoding"), "chunked");
        EXPECT_EQ(co_await big.read(), file_text(nginx.root + "/big.txt"));
        auto redirected = co_await session.get(base + "/redirect");
        EXPECT_EQ(redirected.url().path(), "/index.html");
        EXPECT_EQ(redirected.history().size(), 1u);
        (void)co_await redirected.read();
        auto teapot = co_await session.get(base + "/status/418");
        EXPECT_EQ(teapot.status(), 418);
        EXPECT_THROW(teapot.raise_for_status(), aio::http::ClientResponseError);
        (void)co_await teapot.read();
        auto method = co_await session.request("PATCH", base + "/echo-method");
        EXPECT_EQ(co_await method.text(), "PATCH");
    }
    EXPECT_EQ(session.idle_connections(), 2u);  // one keep-alive connection per origin
    co_await session.close();
}

INTEROP_TEST(OurClientAgainstAiohttpServer, python_has_aiohttp(), "python3-aiohttp is not installed") {
    aio::SubprocessOptions popts;
    popts.stdin_ = aio::Redirect::pipe;
    popts.stdout_ = aio::Redirect::pipe;
    std::vector<std::string> args = {script("http_server.py")};
    auto proc = co_await aio::create_subprocess_exec(kPython, args, popts);
    std::string line = co_await aio::wait_for(proc.stdout_().readline(), 30s);
    CO_ASSERT_EQ(line.rfind("port ", 0), 0u);
    const std::string base = "http://127.0.0.1:" + std::to_string(std::stoi(line.substr(5)));
    {
        ClientSession session;
        aio::http::RequestOptions query{.params = {{"q", "a b"}}};
        auto j = co_await session.get(base + "/json", query);
        json body = co_await j.json();
        EXPECT_EQ(body["server"], "aiohttp");
        EXPECT_EQ(body["query"], "a b");
        auto chunked = co_await session.get(base + "/chunked");
        EXPECT_EQ(co_await chunked.text(), "part0;part1;part2;part3;part4;");
        auto gz = co_await session.get(base + "/gzip");
        std::string expected;
        for (int i = 0; i < 500; ++i) expected += "compress me ";
        EXPECT_EQ(co_await gz.text(), expected);
        auto redirected = co_await session.get(base + "/redirect");
        json r = co_await redirected.json();
        EXPECT_EQ(r["query"], "redirected");
        auto echo = co_await session.post(base + "/echo", {.data = "raw bytes"});
        EXPECT_EQ(echo.headers().get("x-method"), "POST");
        EXPECT_EQ(co_await echo.text(), "raw bytes");
        co_await session.close();
    }
    proc.stdin_().close();
    EXPECT_EQ(co_await aio::wait_for(proc.wait(), 30s), 0);
}

AIO_REAL_TEST(HttpInterop, AiohttpClientAndCurlAgainstOurServer) {
    App app = test_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    if (python_has_aiohttp()) {
        aio::SubprocessOptions popts;
        popts.stdout_ = aio::Redirect::pipe;
        std::vector<std::string> args = {script("http_client.py"), base};
        auto proc = co_await aio::create_subprocess_exec(kPython, args, popts);
        auto [out, err] = co_await aio::wait_for(proc.communicate(), 60s);
        EXPECT_EQ(co_await proc.wait(), 0);
        std::istringstream lines(out);
        std::string l;
        int checks = 0;
        while (std::getline(lines, l)) {
            json j = json::parse(l);
            ++checks;
            const std::string check = j["check"];
            if (check == "get") {
                EXPECT_EQ(j["body"]["greeting"], "hello py");
            } else if (check == "post") {
                EXPECT_EQ(j["body"]["a"], json::array({1, 2, 3}));
            } else if (check == "missing") {
                EXPECT_EQ(j["status"], 404);
            } else if (check == "concurrent") {
                EXPECT_EQ(j["count"], 20);
            }
        }
        EXPECT_EQ(checks, 4) << out;
    }
    if (have("/usr/bin/curl")) {
        aio::SubprocessOptions popts;
        popts.stdout_ = aio::Redirect::pipe;
        std::vector<std::string> args = {"-s", "-X", "POST", "-H", "Content-Type: application/json",
                                         "--data", R"({"from":"curl"})", base + "/echo"};
        auto proc = co_await aio::create_subprocess_exec("/usr/bin/curl", args, popts);
        auto [out, err] = co_await aio::wait_for(proc.communicate(), 60s);
        EXPECT_EQ(co_await proc.wait(), 0);
        EXPECT_EQ(out, R"({"from":"curl"})");
    }
    server.close();
    co_await server.wait_closed();
}

INTEROP_TEST(WrkSmokeTest, have("/usr/bin/wrk"), "wrk is not installed") {
    App app = test_app();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    aio::SubprocessOptions popts;
    popts.stdout_ = aio::Redirect::pipe;
    std::vector<std::string> args = {"-t1", "-c20", "-d1s", "http://127.0.0.1:" + std::to_string(server.port()) + "/"};
    auto proc = co_await aio::create_subprocess_exec("/usr/bin/wrk", args, popts);
    auto [out, err] = co_await aio::wait_for(proc.communicate(), 60s);
    EXPECT_EQ(co_await proc.wait(), 0);
    EXPECT_NE(out.find("Requests/sec"), std::string::npos) << out;
    EXPECT_EQ(out.find("Non-2xx"), std::string::npos) << out;
    EXPECT_EQ(out.find("Socket errors"), std::string::npos) << out;
    server.close();
    co_await server.wait_closed();
}
