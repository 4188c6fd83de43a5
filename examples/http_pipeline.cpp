// The API data pipeline from the tutorials: for each user, fetch details and posts at the
// same time, then combine; users are processed concurrently, at most 3 at once, and a
// flaky endpoint is retried with exponential backoff.
#include <aio/aio.hpp>
#include <aio/http/client.hpp>
#include <aio/http/server.hpp>
#include <fmt/core.h>

using namespace std::chrono_literals;
using aio::http::Request;
using nlohmann::json;

// Retries `fetch` on connection errors, timeouts and 5xx, waiting 20 ms, 40 ms, 80 ms...
aio::Coro<json> get_json_with_retry(aio::http::ClientSession& session, std::string url, int attempts = 4) {
    for (int attempt = 1;; ++attempt) {
        try {
            auto resp = co_await session.get(url);
            resp.raise_for_status();
            co_return co_await resp.json();
        } catch (const aio::http::ClientResponseError& e) {
            if (e.status() < 500 || attempt == attempts) throw;
        } catch (const aio::http::ClientConnectionError&) {
            if (attempt == attempts) throw;
        }
        co_await aio::sleep(20ms * (1 << (attempt - 1)));
    }
}

aio::Coro<json> user_summary(aio::http::ClientSession& session, aio::Semaphore& limit, std::string base, int id) {
    auto held = co_await limit.scoped();
    auto [details, posts] = co_await aio::gather(get_json_with_retry(session, fmt::format("{}/users/{}", base, id)),
                                                 get_json_with_retry(session, fmt::format("{}/users/{}/posts", base, id)));
    co_return json{{"name", details["name"]}, {"posts", posts.size()}};
}

aio::Coro<int> amain() {
    aio::http::App app;
    int flaky = 0;
    app.get("/users/{id:int}", [](Request& req) -> aio::Coro<json> {
        co_await aio::sleep(15ms);
        co_return json{{"id", req.path_param<long>("id")}, {"name", fmt::format("user{}", req.path_param<long>("id"))}};
    });
    app.get("/users/{id:int}/posts", [&flaky](Request& req) -> aio::Coro<json> {
        co_await aio::sleep(25ms);
        if (++flaky % 4 == 0) throw aio::http::HTTPException(503, "try again");  // every 4th call fails
        json posts = json::array();
        for (long i = 0; i < req.path_param<long>("id"); ++i) posts.push_back({{"title", fmt::format("post {}", i)}});
        co_return posts;
    });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = fmt::format("http://127.0.0.1:{}", server.port());

    aio::http::ClientSession session;
    aio::Semaphore limit(3);
    std::vector<aio::Coro<json>> users;
    for (int id = 1; id <= 6; ++id) users.push_back(user_summary(session, limit, base, id));
    for (const json& summary : co_await aio::gather(std::move(users))) fmt::print("{}\n", summary.dump());
    co_await session.close();
    server.close();
    co_await server.wait_closed();
    co_return 0;
}

int main() { return aio::run(amain()); }
