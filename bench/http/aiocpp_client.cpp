// The HTTP benchmark's aiocpp client (bench/http/README.md): REQUESTS GETs of
// http://127.0.0.1:PORT/ with CONCURRENCY in flight through one ClientSession (limit 100).
#include <aio/aio.hpp>
#include <aio/http/client.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

aio::Coro<void> worker(aio::http::ClientSession& session, const std::string& url, long& next, long total, long& failed) {
    while (next < total) {
        ++next;
        try {
            auto resp = co_await session.get(url);
            std::string body = co_await resp.read();
            if (resp.status() != 200 || body.size() != 27) ++failed;
        } catch (const aio::http::ClientError&) {
            ++failed;
        }
    }
}

aio::Coro<int> amain(std::string url, long requests, long concurrency) {
    aio::http::ClientSession session({.limit = static_cast<std::size_t>(concurrency)});
    std::puts("ready");
    std::fflush(stdout);
    std::string line;
    co_await aio::to_thread([&line] { std::getline(std::cin, line); });  // the driver's go
    long next = 0, failed = 0;
    const auto start = std::chrono::steady_clock::now();
    std::vector<aio::Coro<void>> workers;
    for (long i = 0; i < concurrency; ++i) workers.push_back(worker(session, url, next, requests, failed));
    co_await aio::gather(std::move(workers));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"requests\":%ld,\"failed\":%ld,\"seconds\":%.4f,\"rps\":%.1f}\n", requests, failed, seconds,
                static_cast<double>(requests) / seconds);
    std::fflush(stdout);
    co_await aio::to_thread([] {
        std::string rest;
        while (std::getline(std::cin, rest)) {
        }
    });
    co_await session.close();
    co_return failed == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s PORT REQUESTS CONCURRENCY\n", argv[0]);
        return 2;
    }
    std::string url = "http://127.0.0.1:" + std::string(argv[1]) + "/";
    return aio::run(amain(url, std::atol(argv[2]), std::atol(argv[3])));
}
