// Fairness under a flood: one client, writing from another thread, keeps its connection's
// socket always readable, while slow clients on the server's loop must still get their
// round trips. Without the coop budget the flooding connection's handler would rarely or
// never suspend and the slow clients would starve.
#include <atomic>
#include <thread>

#include "aio/net/streams.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

/// Echoes lines; a connection that starts with "flood\n" is read and discarded instead.
aio::Coro<> serve(aio::StreamReader reader, aio::StreamWriter writer) {
    std::string first = co_await reader.readline();
    if (first == "flood\n") {
        while (!(co_await reader.read(64 * 1024)).empty()) {
        }
        co_return;
    }
    while (!first.empty()) {
        writer.write(first);
        co_await writer.drain();
        first = co_await reader.readline();
    }
}

/// Runs on its own thread and loop: writes as fast as the socket takes it until `stop`.
aio::Coro<int> flood(std::uint16_t port, const std::atomic<bool>* stop, std::atomic<long>* sent) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write("flood\n");
    const std::string chunk(64 * 1024, 'f');
    while (!stop->load()) {
        writer.write(chunk);
        co_await writer.drain();
        sent->fetch_add(static_cast<long>(chunk.size()));
    }
    writer.close();
    co_await writer.wait_closed();
    co_return 0;
}

aio::Coro<int> slow_client(std::uint16_t port, int rounds) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    int done = 0;
    for (int i = 0; i < rounds; ++i) {
        writer.write("ping\n");
        co_await writer.drain();
        if (co_await reader.readexactly(5) != "ping\n") break;
        ++done;
        co_await aio::sleep(2ms);
    }
    writer.close();
    co_await writer.wait_closed();
    co_return done;
}

}  // namespace

AIO_REAL_TEST(Fairness, SlowClientsAreServedWhileOneConnectionFloods) {
    aio::Server server = co_await aio::start_server(serve, "127.0.0.1", 0);
    std::atomic<bool> stop{false};
    std::atomic<long> sent{0};
    const std::uint16_t port = server.port();
    std::thread flooder([&] { aio::run(flood(port, &stop, &sent)); });
    while (sent.load() < 8 * 1024 * 1024) co_await aio::sleep(1ms);  // the flood is on

    std::vector<aio::Coro<int>> clients;
    for (int i = 0; i < 20; ++i) clients.push_back(slow_client(port, 25));
    // Generous bound: with fair scheduling this takes well under a second.
    const long before = sent.load();
    std::vector<int> rounds = co_await aio::wait_for(aio::gather(std::move(clients)), 60s);
    const long flooded_during = sent.load() - before;
    stop = true;
    co_await aio::to_thread([&] { flooder.join(); });  // the loop keeps serving the flood's tail
    for (int r : rounds) EXPECT_EQ(r, 25);
    EXPECT_GT(flooded_during, 1024 * 1024);  // the flood went on meanwhile
    server.close();
    co_await server.wait_closed();
}
