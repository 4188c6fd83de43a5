// The HTTP benchmark's aiocpp server (bench/http/README.md): GET / answered with
// {"message":"Hello, World!"} through aio::http::App, with one route and one middleware.
#include <aio/aio.hpp>
#include <aio/http/server.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>

using aio::http::Request;
using aio::http::Response;
using nlohmann::json;

aio::Coro<int> amain(std::uint16_t port) {
    aio::http::App app;
    app.middleware([](Request& req, aio::http::Next next) -> aio::Coro<Response> {
        Response resp = co_await next(req);
        resp.headers().add("X-Bench", "1");
        co_return resp;
    });
    app.get("/", [](Request&) -> aio::Coro<json> { co_return json{{"message", "Hello, World!"}}; });
    auto server = co_await aio::http::start_http_server(app, {.port = port, .backlog = 4096});
    auto main_task = aio::current_task();
    aio::get_running_loop().add_signal_handler(SIGTERM, [main_task]() mutable { main_task.cancel(); });
    std::puts("ready");
    std::fflush(stdout);
    try {
        aio::Event forever;
        co_await forever.wait();
    } catch (const aio::CancelledError&) {
    }
    server.close();
    co_await server.wait_closed();
    co_return 0;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    return aio::run(amain(static_cast<std::uint16_t>(std::atoi(argv[1]))));
}
