// The asyncio docs' TCP echo server and client, on loopback.
#include <aio/aio.hpp>
#include <fmt/core.h>

aio::Coro<> handle_echo(aio::StreamReader reader, aio::StreamWriter writer) {
    std::string data = co_await reader.read(100);
    fmt::print("Received {:?} from {}\n", data, writer.peername().to_string());
    writer.write(data);  // echo it back
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

aio::Coro<> tcp_echo_client(std::uint16_t port, std::string message) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write(message);
    co_await writer.drain();
    std::string reply = co_await reader.read(100);
    fmt::print("Client got back {:?}\n", reply);
    writer.close();
    co_await writer.wait_closed();
}

aio::Coro<int> amain() {
    aio::Server server = co_await aio::start_server(handle_echo, "127.0.0.1", 0);  // port 0: any free port
    fmt::print("Serving on {}\n", server.sockets().front().to_string());
    co_await aio::gather(tcp_echo_client(server.port(), "Hello World!"),
                         tcp_echo_client(server.port(), "Hello again!"));
    server.close();
    co_await server.wait_closed();
    co_return 0;
}

int main() { return aio::run(amain()); }
