#include "demo_site.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "aio/sleep.hpp"

namespace aiofetch {

namespace {

using aio::http::Request;
using aio::http::Response;

std::string page_html(long n, int pages) {
    std::string links;
    for (long child : {2 * n, 2 * n + 1, n + 7}) {
        if (child <= pages) links += fmt::format("<li><a href=\"/page/{}\">page {}</a></li>\n", child, child);
    }
    links += "<li><a href=\"/\">home</a></li>\n";
    if (n % 10 == 3) links += fmt::format("<li><a href=\"/status/{}\">broken link</a></li>\n", n % 20 == 3 ? 404 : 500);
    if (n % 25 == 4) links += "<li><a href=\"/json\">data</a></li>\n";
    return fmt::format("<!doctype html><html><head><title>Page {0}</title></head><body><h1>Page {0}</h1><ul>\n{1}</ul>"
                       "</body></html>\n",
                       n, links);
}

}  // namespace

aio::http::App make_demo_site(int pages) {
    aio::http::App app;
    app.get("/", [](Request&) -> aio::Coro<Response> {
        co_return Response::html(
            "<!doctype html><html><body><h1>aiocpp demo site</h1><ul>"
            "<li><a href=\"/page/1\">pages</a></li><li><a href=\"/json\">json</a></li>"
            "<li><a href=\"/delay/100\">a slow page</a></li><li><a href=\"/status/404\">a missing page</a></li>"
            "<li><a href=\"http://127.0.0.1:1/\">a server that is down</a></li></ul></body></html>\n");
    });
    app.get("/page/{n:int}", [pages](Request& req) -> aio::Coro<Response> {
        const long n = req.path_param<long>("n");
        if (n < 1 || n > pages) throw aio::http::HTTPException(404, fmt::format("no page {}", n));
        // Pages take 20-140 ms, like a real backend would.
        co_await aio::sleep(std::chrono::milliseconds(20 + (n * 37) % 121));
        co_return Response::html(page_html(n, pages));
    });
    app.get("/delay/{ms:int}", [](Request& req) -> aio::Coro<nlohmann::json> {
        const long ms = req.path_param<long>("ms");
        if (ms < 0 || ms > 10'000) throw aio::http::HTTPException(422, "delay must be 0..10000 ms");
        co_await aio::sleep(std::chrono::milliseconds(ms));
        co_return nlohmann::json{{"delay_ms", ms}};
    });
    app.get("/status/{code:int}", [](Request& req) -> aio::Coro<Response> {
        const long code = req.path_param<long>("code");
        if (code < 200 || code > 599) throw aio::http::HTTPException(422, "status must be 200..599");
        co_return Response::text(fmt::format("status {}\n", code), static_cast<int>(code));
    });
    app.get("/json", [](Request&) -> aio::Coro<nlohmann::json> {
        co_return nlohmann::json{{"name", "aiocpp"}, {"model", "asyncio"}, {"features", {"tasks", "streams", "http"}}};
    });
    return app;
}

}  // namespace aiofetch
