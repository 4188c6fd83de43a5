// The README's HTTP service. `example_http_users --serve` serves it on port 8000 until
// Ctrl-C or SIGTERM; without arguments it starts it on a free port, asks it for a user
// with the client and stops.
#include <aio/http/server.hpp>

using aio::http::Request;
using nlohmann::json;

aio::http::App make_app() {
    aio::http::App app;
    app.get("/users/{id:int}", [](Request& req) -> aio::Coro<json> {
        co_return json{{"id", req.path_param<long>("id")}};
    });
    return app;
}

#include <aio/aio.hpp>
#include <aio/http/client.hpp>
#include <fmt/core.h>

#include <string_view>

aio::Coro<int> ask_once(aio::http::App& app) {
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    aio::http::ClientSession client;
    auto resp = co_await client.get(fmt::format("http://127.0.0.1:{}/users/42", server.port()));
    fmt::print("GET /users/42 -> {} {}\n", resp.status(), co_await resp.text());
    co_await client.close();
    co_await server.shutdown();
    co_return resp.status() == 200 ? 0 : 1;
}

int main(int argc, char** argv) {
    aio::http::App app = make_app();
    if (argc > 1 && std::string_view(argv[1]) == "--serve") {
        return aio::http::run_app(app, {.host = "0.0.0.0", .port = 8000});
    }
    return aio::run(ask_once(app));
}
