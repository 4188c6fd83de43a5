// A FastAPI-style service: a lifespan-managed upstream client and cache in app state,
// JSON validation, an endpoint that offloads CPU work to the thread pool, and middleware
// timing every request. It serves on a free port, calls itself a few times and stops.
#include <aio/aio.hpp>
#include <aio/http/client.hpp>
#include <aio/http/server.hpp>
#include <fmt/core.h>

#include <map>
#include <memory>

using namespace std::chrono_literals;
using aio::http::Request;
using aio::http::Response;
using nlohmann::json;

struct Services {
    std::unique_ptr<aio::http::ClientSession> upstream;  // opened at startup, closed at shutdown
    std::map<long, json> cache;
};

struct Order {
    std::string item;
    int quantity = 0;
};
void from_json(const json& j, Order& o) {
    j.at("item").get_to(o.item);
    j.at("quantity").get_to(o.quantity);
}

aio::http::App make_app() {
    aio::http::App app;
    app.set_state(Services{});
    app.on_startup([&app]() -> aio::Coro<> {
        app.state<Services>().upstream = std::make_unique<aio::http::ClientSession>(
            aio::http::SessionOptions{.limit = 10, .timeout = {.total = 5s, .connect = {}, .sock_read = {}}});
        co_return;
    });
    app.on_shutdown([&app]() -> aio::Coro<> {
        co_await app.state<Services>().upstream->close();
    });
    app.middleware([](Request& req, aio::http::Next next) -> aio::Coro<Response> {
        const auto start = aio::get_running_loop().time();
        Response resp = co_await next(req);
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(aio::get_running_loop().time() - start);
        resp.headers().set("X-Process-Time-Us", std::to_string(us.count()));
        co_return resp;
    });
    // Cached: the first call computes, later ones hit the cache.
    app.get("/users/{id:int}", [](Request& req) -> aio::Coro<json> {
        auto& services = req.app().state<Services>();
        const long id = req.path_param<long>("id");
        if (id <= 0) throw aio::http::HTTPException(404, fmt::format("no user {}", id));
        if (auto hit = services.cache.find(id); hit != services.cache.end()) co_return hit->second;
        co_await aio::sleep(20ms);  // the "database"
        json user = {{"id", id}, {"name", fmt::format("user{}", id)}};
        services.cache[id] = user;
        co_return user;
    });
    app.post("/orders", [](Request& req) -> aio::Coro<Response> {
        json body = co_await req.json();
        Order order = body.get<Order>();  // a missing or mistyped field answers 422
        co_return Response::json(json{{"item", order.item}, {"quantity", order.quantity}, {"status", "accepted"}}, 201);
    });
    // Not a coroutine: runs on the thread pool, so the loop keeps serving meanwhile.
    app.get("/primes/{n:int}", [](Request& req) -> json {
        const long n = req.path_param<long>("n");
        long count = 0;
        for (long i = 2; i <= n; ++i) {
            bool prime = true;
            for (long d = 2; d * d <= i; ++d) {
                if (i % d == 0) {
                    prime = false;
                    break;
                }
            }
            count += prime ? 1 : 0;
        }
        return json{{"n", n}, {"primes", count}};
    });
    return app;
}

aio::Coro<void> call(aio::http::ClientSession& client, std::string method, std::string url, std::string body = {}) {
    auto resp = co_await client.request(method, url, {.data = body});
    fmt::print("{} {} -> {} {}\n", method, url.substr(url.find('/', 8)), resp.status(), co_await resp.text());
}

aio::Coro<int> amain() {
    aio::http::App app = make_app();
    co_await app.startup();
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = fmt::format("http://127.0.0.1:{}", server.port());
    {
        aio::http::ClientSession client;
        co_await call(client, "GET", base + "/users/7");
        co_await call(client, "GET", base + "/users/7");  // from the cache
        co_await call(client, "GET", base + "/users/0");
        co_await call(client, "POST", base + "/orders", R"({"item": "pen", "quantity": 3})");
        co_await call(client, "POST", base + "/orders", R"({"item": "pen"})");
        co_await call(client, "GET", base + "/primes/20000");
        co_await client.close();
    }
    co_await server.shutdown();
    co_await app.shutdown();
    co_return 0;
}

int main() { return aio::run(amain()); }
