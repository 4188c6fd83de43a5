// `./run demo`: the classic asyncio tutorial result, live, on a local site. N requests
// one by one versus all at once, then a crawl of the site with aiofetch.
#include <unistd.h>

#include <cstdio>
#include <fmt/format.h>

#include "aio/aio.hpp"
#include "aio/http/client.hpp"
#include "aio/http/server.hpp"
#include "demo_site.hpp"
#include "run.hpp"

namespace {

using namespace std::chrono_literals;

constexpr int kDelayMs = 50;

aio::Coro<std::string> fetch(aio::http::ClientSession& session, std::string url) {
    aio::http::ClientResponse resp = co_await session.get(url);
    resp.raise_for_status();
    co_return co_await resp.text();
}

// The tutorial's "before": each request waits for the previous one.
aio::Coro<> one_by_one(aio::http::ClientSession& session, const std::string& url, int n) {
    for (int i = 0; i < n; ++i) (void)co_await fetch(session, url);
}

// And "after": all requests in flight at once with gather.
aio::Coro<> concurrently(aio::http::ClientSession& session, const std::string& url, int n) {
    std::vector<aio::Coro<std::string>> requests;
    for (int i = 0; i < n; ++i) requests.push_back(fetch(session, url));
    auto bodies = co_await aio::gather(std::move(requests));
    if (bodies.size() != static_cast<std::size_t>(n)) throw aio::RuntimeError("lost a response");
}

template <class Body>
aio::Coro<double> timed(Body body) {
    auto& loop = aio::get_running_loop();
    const auto start = loop.time();
    co_await body();
    co_return std::chrono::duration<double>(loop.time() - start).count();
}

aio::Coro<int> amain() {
    aio::http::App site = aiofetch::make_demo_site();
    aio::http::ServeOptions serve_options;
    serve_options.host = "127.0.0.1";
    serve_options.port = 0;
    aio::http::HttpServer server = co_await aio::http::start_http_server(site, serve_options);
    const std::string base = fmt::format("http://127.0.0.1:{}", server.port());
    fmt::print("A local aiocpp site is serving at {}\n\n", base);

    fmt::print("1. Fetch {}/delay/{} (each answer takes {} ms) N times:\n\n", base, kDelayMs, kDelayMs);
    fmt::print("   {:>4}  {:>12}  {:>14}  {:>8}\n", "N", "one by one", "concurrently", "speedup");
    {
        aio::http::ClientSession session;
        const std::string url = fmt::format("{}/delay/{}", base, kDelayMs);
        for (int n : {5, 10, 20, 50, 100}) {
            double seq = co_await timed([&] { return one_by_one(session, url, n); });
            double conc = co_await timed([&] { return concurrently(session, url, n); });
            fmt::print("   {:>4}  {:>10.2f} s  {:>12.2f} s  {:>7.1f}x\n", n, seq, conc, seq / conc);
            std::fflush(stdout);
        }
        co_await session.close();
    }

    fmt::print("\n2. Crawl the site with aiofetch (same host, depth 10, concurrency 20, 1 retry):\n\n");
    std::fflush(stdout);
    aiofetch::Options options;
    options.crawl = true;
    options.depth = 10;
    options.concurrency = 20;
    options.retries = 1;
    options.timeout = 5s;
    char path[] = "/tmp/aiofetch-demo-XXXXXX.jsonl";
    int fd = ::mkstemps(path, 6);
    std::FILE* out = fd >= 0 ? ::fdopen(fd, "w") : nullptr;
    if (!out) throw aio::RuntimeError("cannot create the results file");
    std::vector<std::string> start_urls = {base + "/"};
    aiofetch::Summary summary = co_await aiofetch::fetch_with_progress(options, start_urls, out, false);
    std::fclose(out);
    fmt::print("\nOne JSON line per URL was written to {}\n", path);
    fmt::print("The same from the command line: aiofetch --crawl --depth 10 -o results.jsonl URL (aiofetch --help)\n");

    server.close();
    co_await server.wait_closed();
    co_return summary.count() > 0 ? 0 : 1;
}

}  // namespace

int main() { return aio::run(amain()); }
