// The echo benchmark's aiocpp server (bench/echo/README.md protocol), written with the
// streams API exactly as a user would: read, write, drain.
//
//     bench_echo_server PORT [--tls CERT KEY]
#include <aio/aio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

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
    } catch (const aio::SSLError&) {
        // Or closes them without waiting for the TLS close_notify exchange.
    }
}

aio::Coro<int> serve(std::uint16_t port, const aio::SSLContext* ssl) {
    aio::ServerOptions options;
    options.backlog = 4096;
    options.ssl = ssl;
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", port, options);
    std::puts("ready");
    std::fflush(stdout);
    co_await server.serve_forever();
    co_return 0;
}

int main(int argc, char** argv) {
    if (argc != 2 && !(argc == 5 && std::strcmp(argv[2], "--tls") == 0)) {
        std::fprintf(stderr, "usage: %s PORT [--tls CERT KEY]\n", argv[0]);
        return 2;
    }
    std::optional<aio::SSLContext> ssl;
    if (argc == 5) {
        try {
            ssl = aio::SSLContext::create_default_context(aio::Purpose::client_auth);
            ssl->load_cert_chain(argv[3], argv[4]);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
            return 1;
        }
    }
    return aio::run(serve(static_cast<std::uint16_t>(std::atoi(argv[1])), ssl ? &*ssl : nullptr));
}
