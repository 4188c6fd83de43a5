#include "aio/net/sockets.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

std::pair<aio::Socket, aio::Socket> socket_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
    return {aio::Socket::adopt(fds[0]), aio::Socket::adopt(fds[1])};
}

}  // namespace

TEST(SocketAddress, ParsesAndFormats) {
    auto v4 = aio::SocketAddress::parse("127.0.0.1", 8080);
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->family(), AF_INET);
    EXPECT_EQ(v4->to_string(), "127.0.0.1:8080");
    auto v6 = aio::SocketAddress::parse("[::1]", 443);
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->family(), AF_INET6);
    EXPECT_EQ(v6->to_string(), "[::1]:443");
    EXPECT_EQ(v6->host(), "::1");
    EXPECT_FALSE(aio::SocketAddress::parse("example.com", 80));
    EXPECT_FALSE(aio::SocketAddress::parse("", 80));
    EXPECT_FALSE(aio::SocketAddress::parse("1.2.3.256", 80));
    auto un = aio::SocketAddress::unix_path("/tmp/x.sock");
    EXPECT_EQ(un.family(), AF_UNIX);
    EXPECT_EQ(un.to_string(), "/tmp/x.sock");
    EXPECT_EQ(aio::SocketAddress::unix_path("@abstract").to_string(), "@abstract");
    EXPECT_THROW((void)aio::SocketAddress::unix_path(std::string(200, 'p')), aio::ValueError);
    EXPECT_THROW((void)aio::SocketAddress::unix_path(""), aio::ValueError);
    EXPECT_EQ(aio::SocketAddress().to_string(), "<no address>");
}

AIO_TEST(Sockets, RecvAndSendallOnASocketPair) {
    auto [a, b] = socket_pair();
    co_await aio::sock_sendall(a, "ping");
    EXPECT_EQ(co_await aio::sock_recv(b, 100), "ping");
    a.shutdown(SHUT_WR);
    EXPECT_EQ(co_await aio::sock_recv(b, 100), "");  // end of stream
}

AIO_TEST(Sockets, RecvWaitsForDataAndIsCancelSafe) {
    auto [a, b] = socket_pair();
    auto reading = aio::create_task(aio::sock_recv(b, 10));
    co_await aio::sleep(0ms);
    EXPECT_FALSE(reading.done());
    reading.cancel();
    bool cancelled = false;
    try {
        (void)co_await reading;
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    co_await aio::sock_sendall(a, "kept");
    EXPECT_EQ(co_await aio::sock_recv(b, 10), "kept");  // nothing was consumed by the cancelled read
}

AIO_TEST(Sockets, ClosingWakesAWaitingReader) {
    auto [a, b] = socket_pair();
    auto reading = aio::create_task(aio::sock_recv(b, 10));
    co_await aio::sleep(0ms);
    b.close();
    bool refused = false;
    try {
        (void)co_await reading;
    } catch (const aio::RuntimeError& e) {
        refused = std::string(e.what()).find("closed Socket") != std::string::npos;
    }
    EXPECT_TRUE(refused);
}

AIO_REAL_TEST(Sockets, ConnectAcceptOverLoopback) {
    aio::Socket listener(AF_INET, SOCK_STREAM);
    listener.bind(*aio::SocketAddress::parse("127.0.0.1", 0));
    listener.listen();
    const aio::SocketAddress where = listener.sockname();
    auto accepting = aio::create_task(aio::sock_accept(listener));
    aio::Socket client(AF_INET, SOCK_STREAM);
    co_await aio::sock_connect(client, where);
    auto [conn, peer] = co_await std::move(accepting);
    EXPECT_EQ(peer, client.sockname());
    co_await aio::sock_sendall(client, "hi");
    EXPECT_EQ(co_await aio::sock_recv(conn, 10), "hi");
}

// Fairness (Tokio's coop budget): a task whose socket is always readable still lets the
// other ready tasks run.
AIO_TEST(Sockets, AlwaysReadySocketYieldsToOthers) {
    auto [a, b] = socket_pair();
    co_await aio::sock_sendall(a, std::string(4096, 'r'));
    int other_ran = 0;
    bool reading = true;
    auto other = aio::create_task([&]() -> aio::Coro<> {
        while (reading) {
            ++other_ran;
            co_await aio::sleep(0ms);
        }
    });
    co_await aio::sleep(0ms);
    const int before = other_ran;
    for (int i = 0; i < 1000; ++i) (void)co_await aio::sock_recv(b, 1);  // every recv finds data
    const int during = other_ran - before;
    reading = false;
    co_await other;
    EXPECT_GE(during, 1000 / aio::EventLoop::kIoBudget - 1);
}

TEST(Sockets, ASocketMayOutliveItsLoop) {
    aio::Socket kept(AF_INET, SOCK_STREAM);
    std::vector<std::string> reports;
    {
        aio::EventLoop loop;
        loop.set_debug(true);
        loop.set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& c) { reports.push_back(c.message); });
        loop.run_until_complete([](aio::Socket& s) -> aio::Coro<> {
            (void)s.io();  // registered with this loop
            co_return;
        }(kept));
        loop.close();  // `kept` is still open and registered: the loop lets go of it
    }
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0], "Socket still open at loop close: fd " + std::to_string(kept.fd()));
    kept.close();  // must not touch the destroyed loop (ASan would see it)
    EXPECT_FALSE(kept);
}
