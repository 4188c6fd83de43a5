// The tutorial's "fetch many URLs at once": gather with return_exceptions, so one bad URL
// does not lose the others' results. A local server stands in for the internet.
#include <aio/aio.hpp>
#include <aio/http/client.hpp>
#include <aio/http/server.hpp>
#include <fmt/core.h>

using namespace std::chrono_literals;
using aio::http::Request;

aio::Coro<std::string> fetch(aio::http::ClientSession& session, std::string url) {
    auto resp = co_await session.get(url);
    resp.raise_for_status();
    co_return co_await resp.text();
}

aio::Coro<int> amain() {
    aio::http::App app;
    app.get("/delay/{ms:int}", [](Request& req) -> aio::Coro<std::string> {
        co_await aio::sleep(std::chrono::milliseconds(req.path_param<long>("ms")));
        co_return fmt::format("waited {} ms", req.path_param<long>("ms"));
    });
    auto server = co_await aio::http::start_http_server(app, {.port = 0});
    const std::string base = fmt::format("http://127.0.0.1:{}", server.port());

    aio::http::ClientSession session;
    std::vector<std::string> urls = {base + "/delay/30", base + "/delay/10", base + "/missing",
                                     "http://127.0.0.1:1/refused", base + "/delay/20"};
    std::vector<aio::Coro<std::string>> requests;
    for (const auto& url : urls) requests.push_back(fetch(session, url));
    // Results come back in argument order, failures as exceptions in their place.
    auto results = co_await aio::gather(aio::return_exceptions, std::move(requests));
    for (std::size_t i = 0; i < urls.size(); ++i) {
        if (results[i].has_value()) {
            fmt::print("{:<40} {}\n", urls[i], results[i].value());
        } else {
            fmt::print("{:<40} failed: {}\n", urls[i], aio::describe(results[i].exception()));
        }
    }
    co_await session.close();
    server.close();
    co_await server.wait_closed();
    co_return 0;
}

int main() { return aio::run(amain()); }
