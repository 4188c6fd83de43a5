// The echo benchmark's aiocpp server (bench/echo/README.md protocol), written with the
// streams API exactly as a user would: read, write, drain.
#include <aio/aio.hpp>

#include <cstdio>
#include <cstdlib>

aio::Coro<> echo(aio::StreamReader reader, aio::StreamWriter writer) {
    try {
        for (;;) {
            std::string data = co_await reader.read(64 * 1024);
            if (data.empty()) break;  // the client closed
            writer.write(data);
            co_await writer.drain();
        }
    } catch (const aio::ConnectionError&) {
        // The load generator resets its connections when it stops.
    }
}

aio::Coro<int> serve(std::uint16_t port) {
    aio::ServerOptions options;
    options.backlog = 4096;
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", port, options);
    std::puts("ready");
    std::fflush(stdout);
    co_await server.serve_forever();
    co_return 0;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    return aio::run(serve(static_cast<std::uint16_t>(std::atoi(argv[1]))));
}
