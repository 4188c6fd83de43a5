// The aiofetch benchmark's site (bench/aiofetch/run_aiofetch.py): the demo site of
// `./run demo` with PAGES pages, served on PORT until SIGTERM.
#include <aio/aio.hpp>
#include <aio/http/server.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "demo_site.hpp"

aio::Coro<int> amain(std::uint16_t port, int pages) {
    aio::http::App app = aiofetch::make_demo_site(pages);
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
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s PORT PAGES\n", argv[0]);
        return 2;
    }
    return aio::run(amain(static_cast<std::uint16_t>(std::atoi(argv[1])), std::atoi(argv[2])));
}
