// A user program built against the installed package: the core and the network layer
// (which brings in c-ares and OpenSSL through the package's dependencies).
#include <aio/aio.hpp>

using namespace std::chrono_literals;

aio::Coro<int> twice(int x) {
    co_await aio::sleep(1ms);
    co_return 2 * x;
}

aio::Coro<> echo(aio::StreamReader reader, aio::StreamWriter writer) {
    writer.write(co_await reader.readline());
    co_await writer.drain();
}

aio::Coro<int> amain() {
    auto [a, b] = co_await aio::gather(twice(1), twice(2));
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("localhost", server.port());
    writer.write("installed\n");
    std::string line = co_await reader.readline();
    auto tls = aio::SSLContext::create_default_context();
    server.close();
    co_await server.wait_closed();
    co_return a + b == 6 && line == "installed\n" && tls.check_hostname() ? 0 : 1;
}

int main() { return aio::run(amain()); }
