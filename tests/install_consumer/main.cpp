// A user program built against the installed package: the core, the network layer (c-ares
// and OpenSSL) and HTTP (nlohmann-json and zlib), all through the package's dependencies.
#include <aio/aio.hpp>
#include <aio/http/client.hpp>
#include <aio/http/server.hpp>

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

    aio::http::App app;
    app.get("/", [](aio::http::Request&) -> aio::Coro<nlohmann::json> { co_return nlohmann::json{{"ok", true}}; });
    auto http = co_await aio::http::start_http_server(app, {.port = 0});
    aio::http::ClientSession session;
    auto resp = co_await session.get("http://127.0.0.1:" + std::to_string(http.port()) + "/");
    nlohmann::json body = co_await resp.json();
    co_await session.close();
    http.close();
    co_await http.wait_closed();
    co_return a + b == 6 && line == "installed\n" && tls.check_hostname() && body["ok"] == true ? 0 : 1;
}

int main() { return aio::run(amain()); }
