// Response bodies that are not plain strings: streamed (chunked) and file responses, and
// App::add_static, served over loopback and checked byte by byte.
#include "aio/http/response.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "aio/http/client.hpp"
#include "aio/http/server.hpp"
#include "aio/http/wire.hpp"
#include "aio/net/streams.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;
using aio::http::App;
using aio::http::Request;
using aio::http::Response;
namespace fs = std::filesystem;

namespace {

// Sends `bytes` and returns everything the server sends back until it closes (or 5 s).
aio::Coro<std::string> exchange(std::uint16_t port, std::string bytes) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write(bytes);
    co_await writer.drain();
    std::string all;
    try {
        all = co_await aio::wait_for(reader.read(), 5s);
    } catch (const aio::TimeoutError&) {
        all += "<still open>";
    }
    writer.close();
    co_return all;
}

std::string request(std::string_view method, std::string_view target, std::string_view extra = "",
                    std::string_view version = "1.1") {
    return std::string(method) + " " + std::string(target) + " HTTP/" + std::string(version) +
           "\r\nHost: t\r\nConnection: close\r\n" + std::string(extra) + "\r\n";
}

int status_of(std::string_view response) {
    if (response.size() < 12) return 0;
    return std::stoi(std::string(response.substr(9, 3)));
}

std::string head_of(std::string_view response) {
    auto end = response.find("\r\n\r\n");
    return std::string(response.substr(0, end == std::string_view::npos ? response.size() : end + 2));
}

std::string body_of(std::string_view response) {
    auto end = response.find("\r\n\r\n");
    return end == std::string_view::npos ? std::string() : std::string(response.substr(end + 4));
}

/// The value of header `name` in a raw response head ("" if absent).
std::string header_of(std::string_view response, std::string_view name) {
    const std::string head = head_of(response);
    const std::string key = "\r\n" + std::string(name) + ": ";
    auto at = head.find(key);
    if (at == std::string::npos) return {};
    at += key.size();
    return head.substr(at, head.find("\r\n", at) - at);
}

aio::AsyncGenerator<std::string> count_to(int n, std::chrono::milliseconds pause) {
    for (int i = 1; i <= n; ++i) {
        co_await aio::sleep(pause);
        co_yield std::to_string(i) + "\n";
    }
}

aio::AsyncGenerator<std::string> fails_after_one(bool* closed) {
    struct Flag {
        bool* f;
        ~Flag() { *f = true; }
    } flag{closed};
    co_yield std::string("first\n");
    throw std::runtime_error("generator exploded");
}

// A directory of files for the file and static tests, removed at the end.
struct Site {
    Site() {
        char tmpl[] = "/tmp/aiocpp-static-XXXXXX";
        root = ::mkdtemp(tmpl);
        fs::create_directories(root / "docs");
        fs::create_directories(root / "empty");
        write("hello.txt", "hello, file\n");
        write("docs/index.html", "<h1>docs</h1>");
        write("style.css", "body{}");
        std::string big(300 * 1024, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('A' + i % 23);
        write("big.bin", big);
        fs::create_directories(outside());
        std::ofstream(outside() / "secret.txt") << "secret";
        fs::create_symlink(outside() / "secret.txt", root / "leak.txt");
    }
    ~Site() {
        std::error_code ec;
        fs::remove_all(root, ec);
        fs::remove_all(outside(), ec);
    }
    void write(const std::string& rel, const std::string& content) const {
        std::ofstream(root / rel, std::ios::binary) << content;
    }
    [[nodiscard]] std::string read(const std::string& rel) const {
        std::ifstream in(root / rel, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    fs::path outside() const { return root.parent_path() / (root.filename().string() + "-outside"); }
    fs::path root;
};

}  // namespace

AIO_REAL_TEST(StreamingResponse, PiecesAreSentChunkedAsTheyCome) {
    App app;
    app.get("/count", [](Request&) -> aio::Coro<Response> {
        co_return Response::stream(count_to(5, 1ms), "text/plain");
    });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    auto r = co_await exchange(server.port(), request("GET", "/count"));
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(header_of(r, "Transfer-Encoding"), "chunked") << r;
    EXPECT_EQ(header_of(r, "Content-Length"), "");
    EXPECT_EQ(header_of(r, "Content-Type"), "text/plain");
    EXPECT_EQ(body_of(r), "2\r\n1\n\r\n2\r\n2\n\r\n2\r\n3\n\r\n2\r\n4\n\r\n2\r\n5\n\r\n0\r\n\r\n");

    // Our client reads it piece by piece, on a kept-alive connection.
    aio::http::ClientSession session;
    const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/count";
    for (int round = 0; round < 2; ++round) {
        auto resp = co_await session.get(url);
        EXPECT_EQ(co_await resp.text(), "1\n2\n3\n4\n5\n");
    }
    EXPECT_EQ(server.connection_count(), 1u);
    co_await session.close();

    // HTTP/1.0 has no chunked coding: the body ends with the connection.
    auto old = co_await exchange(server.port(), request("GET", "/count", "", "1.0"));
    EXPECT_EQ(header_of(old, "Transfer-Encoding"), "");
    EXPECT_EQ(header_of(old, "Connection"), "close");
    EXPECT_EQ(body_of(old), "1\n2\n3\n4\n5\n");

    // HEAD: the head only; the generator never runs.
    auto head = co_await exchange(server.port(), request("HEAD", "/count"));
    EXPECT_EQ(status_of(head), 200);
    EXPECT_EQ(body_of(head), "");
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(StreamingResponse, AFailingGeneratorCutsTheBodyShortAndIsReported) {
    std::vector<std::string> reported;
    loop.loop().set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& ctx) {
        reported.push_back(ctx.message);
    });
    bool closed = false;
    App app;
    app.get("/bad", [&closed](Request&) -> aio::Coro<Response> {
        co_return Response::stream(fails_after_one(&closed));
    });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    auto r = co_await exchange(server.port(), request("GET", "/bad"));
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(body_of(r), "6\r\nfirst\n\r\n");  // no last chunk: the client sees a truncated body
    EXPECT_TRUE(closed);
    CO_ASSERT_EQ(reported.size(), 1u);
    EXPECT_NE(reported[0].find("GET /bad"), std::string::npos) << reported[0];

    aio::http::ClientSession session;
    auto resp = co_await session.get("http://127.0.0.1:" + std::to_string(server.port()) + "/bad");
    EXPECT_THROW((void)co_await resp.read(), aio::http::ClientPayloadError);
    co_await session.close();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(StreamingResponse, AClientThatLeavesStopsTheGenerator) {
    bool closed = false;
    aio::Event first_sent;
    App app;
    app.get("/endless", [&](Request&) -> aio::Coro<Response> {
        auto endless = [](bool* done, aio::Event* sent) -> aio::AsyncGenerator<std::string> {
            struct Flag {
                bool* f;
                ~Flag() { *f = true; }
            } flag{done};
            for (;;) {
                co_yield std::string(64 * 1024, 'x');
                sent->set();
                co_await aio::sleep(1ms);
            }
        };
        co_return Response::stream(endless(&closed, &first_sent));
    });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    {
        auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
        writer.write(request("GET", "/endless"));
        (void)co_await reader.readexactly(1000);
        co_await first_sent.wait();
        writer.abort();
    }
    for (int i = 0; i < 500 && !closed; ++i) co_await aio::sleep(10ms);
    EXPECT_TRUE(closed);
    for (int i = 0; i < 500 && server.connection_count() > 0; ++i) co_await aio::sleep(10ms);
    EXPECT_EQ(server.connection_count(), 0u);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(FileResponse, ValidatorsConditionalsAndRanges) {
    Site site;
    const std::string big = site.read("big.bin");
    App app;
    const std::string dir = site.root.string();
    app.get("/f/{name}", [dir](Request& req) -> aio::Coro<Response> {
        Response r = Response::file(dir + "/" + std::string(req.path_param("name")));
        r.headers().add("Cache-Control", "max-age=60");
        co_return r;
    });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const auto port = server.port();

    auto r = co_await exchange(port, request("GET", "/f/big.bin"));
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(header_of(r, "Content-Length"), std::to_string(big.size()));
    EXPECT_EQ(header_of(r, "Content-Type"), "application/octet-stream");
    EXPECT_EQ(header_of(r, "Accept-Ranges"), "bytes");
    EXPECT_EQ(header_of(r, "Cache-Control"), "max-age=60");
    EXPECT_TRUE(body_of(r) == big) << "the body differs from the file";
    const std::string etag = header_of(r, "ETag");
    const std::string modified = header_of(r, "Last-Modified");
    EXPECT_TRUE(etag.size() > 2 && etag.front() == '"' && etag.back() == '"') << etag;
    EXPECT_TRUE(modified.ends_with(" GMT")) << modified;
    EXPECT_EQ(header_of(co_await exchange(port, request("GET", "/f/hello.txt")), "Content-Type"),
              "text/plain; charset=utf-8");
    EXPECT_EQ(header_of(co_await exchange(port, request("GET", "/f/style.css")), "Content-Type"),
              "text/css; charset=utf-8");

    // Conditionals: 304 with the validators and no body; 412 for a failed If-Match.
    auto same = co_await exchange(port, request("GET", "/f/big.bin", "If-None-Match: \"x\", W/" + etag + "\r\n"));
    EXPECT_EQ(status_of(same), 304);
    EXPECT_EQ(header_of(same, "ETag"), etag);
    EXPECT_EQ(header_of(same, "Cache-Control"), "max-age=60");
    EXPECT_EQ(body_of(same), "");
    EXPECT_EQ(status_of(co_await exchange(port, request("GET", "/f/big.bin", "If-None-Match: \"other\"\r\n"))), 200);
    EXPECT_EQ(status_of(co_await exchange(port, request("GET", "/f/big.bin", "If-Modified-Since: " + modified + "\r\n"))),
              304);
    EXPECT_EQ(status_of(co_await exchange(
                  port, request("GET", "/f/big.bin", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"))),
              200);
    EXPECT_EQ(status_of(co_await exchange(port, request("GET", "/f/big.bin", "If-Match: \"nope\"\r\n"))), 412);
    EXPECT_EQ(status_of(co_await exchange(port, request("GET", "/f/big.bin", "If-Match: " + etag + "\r\n"))), 200);

    // Ranges.
    auto part = co_await exchange(port, request("GET", "/f/big.bin", "Range: bytes=100-199\r\n"));
    EXPECT_EQ(status_of(part), 206);
    EXPECT_EQ(header_of(part, "Content-Range"), "bytes 100-199/" + std::to_string(big.size()));
    EXPECT_EQ(header_of(part, "Content-Length"), "100");
    EXPECT_TRUE(body_of(part) == big.substr(100, 100));
    auto tail = co_await exchange(port, request("GET", "/f/big.bin", "Range: bytes=-10\r\n"));
    EXPECT_EQ(status_of(tail), 206);
    EXPECT_TRUE(body_of(tail) == big.substr(big.size() - 10));
    auto from = co_await exchange(port, request("GET", "/f/big.bin", "Range: bytes=307000-\r\n"));
    EXPECT_TRUE(body_of(from) == big.substr(307000));
    auto clipped = co_await exchange(port, request("GET", "/f/hello.txt", "Range: bytes=7-1000\r\n"));
    EXPECT_EQ(body_of(clipped), "file\n");
    auto beyond = co_await exchange(port, request("GET", "/f/big.bin", "Range: bytes=999999-\r\n"));
    EXPECT_EQ(status_of(beyond), 416);
    EXPECT_EQ(header_of(beyond, "Content-Range"), "bytes */" + std::to_string(big.size()));
    // Malformed, other units and several ranges are ignored: the whole file.
    for (std::string bad : {"bytes=5-2", "bytes=x-", "items=0-1", "bytes=0-1,5-6"}) {
        auto whole = co_await exchange(port, request("GET", "/f/hello.txt", "Range: " + bad + "\r\n"));
        EXPECT_EQ(status_of(whole), 200) << bad;
        EXPECT_EQ(body_of(whole), "hello, file\n") << bad;
    }
    // If-Range: the range only while the file is unchanged.
    EXPECT_EQ(status_of(co_await exchange(
                  port, request("GET", "/f/big.bin", "Range: bytes=0-0\r\nIf-Range: " + etag + "\r\n"))),
              206);
    EXPECT_EQ(status_of(co_await exchange(
                  port, request("GET", "/f/big.bin", "Range: bytes=0-0\r\nIf-Range: \"old\"\r\n"))),
              200);

    // HEAD: the GET's head without the body.
    auto head = co_await exchange(port, request("HEAD", "/f/big.bin"));
    EXPECT_EQ(header_of(head, "Content-Length"), std::to_string(big.size()));
    EXPECT_EQ(body_of(head), "");
    // Missing files and directories.
    EXPECT_EQ(status_of(co_await exchange(port, request("GET", "/f/missing.txt"))), 404);
    EXPECT_EQ(status_of(co_await exchange(port, request("GET", "/f/docs"))), 403);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(FileResponse, ManyFilesOnOneKeptAliveConnection) {
    Site site;
    const std::string big = site.read("big.bin");
    App app;
    const std::string dir = site.root.string();
    app.get("/big", [dir](Request&) -> aio::Coro<Response> { co_return Response::file(dir + "/big.bin"); });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    aio::http::ClientSession session;
    const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/big";
    for (int i = 0; i < 5; ++i) {
        auto resp = co_await session.get(url);
        EXPECT_TRUE(co_await resp.read() == big) << "round " << i;
    }
    EXPECT_EQ(server.connection_count(), 1u);
    co_await session.close();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(StaticFiles, ServesTheDirectoryAndNothingOutsideIt) {
    Site site;
    App app;
    app.add_static("/static/", site.root.string());
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const auto port = server.port();
    auto r = co_await exchange(port, request("GET", "/static/hello.txt"));
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(body_of(r), "hello, file\n");
    auto index = co_await exchange(port, request("GET", "/static/docs/"));
    EXPECT_EQ(body_of(index), "<h1>docs</h1>");
    EXPECT_EQ(header_of(index, "Content-Type"), "text/html; charset=utf-8");
    auto dir = co_await exchange(port, request("GET", "/static/docs?x=1"));
    EXPECT_EQ(status_of(dir), 301);
    EXPECT_EQ(header_of(dir, "Location"), "/static/docs/?x=1");
    EXPECT_EQ(status_of(co_await exchange(port, request("GET", "/static/empty/"))), 404);
    EXPECT_EQ(status_of(co_await exchange(port, request("GET", "/static/nope.txt"))), 404);
    for (std::string escape : {"/static/../hello.txt", "/static/%2e%2e/%2e%2e/etc/passwd", "/static/docs/../../x",
                               "/static/./hello.txt", "/static/leak.txt"}) {
        auto e = co_await exchange(port, request("GET", escape));
        EXPECT_EQ(status_of(e), 404) << escape;
        EXPECT_EQ(e.find("secret"), std::string::npos) << escape;
    }
    EXPECT_EQ(status_of(co_await exchange(port, request("POST", "/static/hello.txt", "Content-Length: 0\r\n"))), 405);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(StaticFiles, SymlinksOutsideAreServedOnlyWhenAllowed) {
    Site site;
    App app;
    app.add_static("/s", site.root.string(), {.index = "", .follow_symlinks = true});
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    EXPECT_EQ(body_of(co_await exchange(server.port(), request("GET", "/s/leak.txt"))), "secret");
    EXPECT_EQ(status_of(co_await exchange(server.port(), request("GET", "/s/docs/"))), 404);  // no index
    server.close();
    co_await server.wait_closed();
}

TEST(StaticFiles, AMissingDirectoryIsAValueError) {
    App app;
    EXPECT_THROW(app.add_static("/s", "/nonexistent/aiocpp"), aio::ValueError);
    EXPECT_THROW(app.add_static("/s", "/etc/hostname"), aio::ValueError);
}
