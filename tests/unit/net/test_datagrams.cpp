#include "aio/net/datagrams.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "aio/net/sockets.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

constexpr auto kLong = 30s;  // real sockets: generous bounds, never reached when all is well

aio::SocketAddress addr(std::string_view host, std::uint16_t port) { return *aio::SocketAddress::parse(host, port); }

bool ipv6_loopback_available() {
    try {
        aio::Socket s(AF_INET6, SOCK_DGRAM);
        s.bind(addr("::1", 0));
        return true;
    } catch (const aio::OSError&) {
        return false;
    }
}

/// A port nobody listens on: bound once, then released.
std::uint16_t closed_udp_port(std::string_view host) {
    aio::Socket s(host.find(':') == std::string_view::npos ? AF_INET : AF_INET6, SOCK_DGRAM);
    s.bind(addr(host, 0));
    return s.sockname().port();
}

/// Echoes `count` datagrams back to their senders.
aio::Coro<> echo(aio::DatagramEndpoint& server, int count) {
    for (int i = 0; i < count; ++i) {
        auto [data, sender] = co_await server.recvfrom();
        co_await server.sendto(data, sender);
    }
}

aio::Coro<> echo_round_trip(std::string host) {
    aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint(host, 0);
    const aio::SocketAddress where = server.sockname();
    EXPECT_EQ(where.host(), host);
    CO_ASSERT_NE(where.port(), 0);
    auto echoing = aio::create_task(echo(server, 2));
    aio::DatagramEndpoint client = co_await aio::open_datagram(host, where.port());
    CO_ASSERT_TRUE(client.peername().has_value());
    EXPECT_EQ(*client.peername(), where);
    co_await client.send("ping");
    EXPECT_EQ(co_await aio::wait_for(client.recv(), kLong), "ping");
    co_await client.sendto("pong", where);  // sendto() to the peer is allowed
    aio::Datagram back = co_await aio::wait_for(client.recvfrom(), kLong);
    EXPECT_EQ(back.data, "pong");
    EXPECT_EQ(back.sender, where);
    co_await aio::wait_for(std::move(echoing), kLong);
}

}  // namespace

AIO_REAL_TEST(Datagrams, EchoOverIpv4) { co_await echo_round_trip("127.0.0.1"); }

TEST(Datagrams, EchoOverIpv6) {
    if (!ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback on this host";
    aio::test::TestLoop loop(false);
    loop.run_test(echo_round_trip("::1"));
}

AIO_REAL_TEST(Datagrams, RecvfromNamesEachSender) {
    aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    const aio::SocketAddress where = server.sockname();
    std::vector<aio::DatagramEndpoint> clients;
    for (int i = 0; i < 5; ++i) clients.push_back(co_await aio::create_datagram_endpoint("127.0.0.1", 0));
    for (int i = 0; i < 5; ++i) {
        aio::DatagramEndpoint& client = clients.at(i);
        EXPECT_FALSE(client.peername().has_value());
        co_await client.sendto("from " + std::to_string(i), where);
    }
    for (int n = 0; n < 5; ++n) {
        auto [data, sender] = co_await aio::wait_for(server.recvfrom(), kLong);
        const int i = std::stoi(data.substr(5));
        CO_ASSERT_TRUE(i >= 0 && i < 5);
        EXPECT_EQ(sender, clients[i].sockname()) << data;
        co_await server.sendto("to " + std::to_string(i), sender);
    }
    for (int i = 0; i < 5; ++i) {
        aio::DatagramEndpoint& client = clients.at(i);
        aio::Datagram reply = co_await aio::wait_for(client.recvfrom(), kLong);
        EXPECT_EQ(reply.data, "to " + std::to_string(i));
        EXPECT_EQ(reply.sender, where);
    }
}

AIO_REAL_TEST(Datagrams, ConnectedEndpointTalksToItsPeerOnly) {
    aio::DatagramEndpoint peer = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    aio::DatagramEndpoint intruder = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    aio::DatagramEndpoint client = co_await aio::create_datagram_endpoint("127.0.0.1", 0, "127.0.0.1", peer.sockname().port());
    EXPECT_EQ(client.sockname().host(), "127.0.0.1");
    EXPECT_EQ(*client.peername(), peer.sockname());
    EXPECT_EQ(std::any_cast<aio::SocketAddress>(client.get_extra_info("peername")), peer.sockname());
    EXPECT_GE(std::any_cast<int>(client.get_extra_info("socket")), 0);
    EXPECT_FALSE(client.get_extra_info("nonsense").has_value());

    co_await client.send("hello");
    aio::Datagram got = co_await aio::wait_for(peer.recvfrom(), kLong);
    EXPECT_EQ(got.data, "hello");
    EXPECT_EQ(got.sender, client.sockname());

    co_await intruder.sendto("not for you", client.sockname());  // the kernel filters it out
    co_await peer.sendto("reply", got.sender);
    EXPECT_EQ(co_await aio::wait_for(client.recv(), kLong), "reply");

    bool refused = false;
    try {
        co_await client.sendto("x", intruder.sockname());
    } catch (const aio::ValueError& e) {
        refused = std::string(e.what()).find("Invalid address") != std::string::npos;
    }
    EXPECT_TRUE(refused);
}

AIO_REAL_TEST(Datagrams, SendWithoutRemoteAddressRaises) {
    aio::DatagramEndpoint ep = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    int code = 0;
    try {
        co_await ep.send("x");
    } catch (const aio::OSError& e) {
        code = e.code();
        EXPECT_NE(std::string(e.what()).find("sendto"), std::string::npos);
    }
    EXPECT_EQ(code, EDESTADDRREQ);
}

AIO_REAL_TEST(Datagrams, ZeroLengthDatagramIsADatagram) {
    aio::DatagramEndpoint a = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    aio::DatagramEndpoint b = co_await aio::open_datagram("127.0.0.1", a.sockname().port());
    co_await b.send("");
    co_await b.send("after");
    aio::Datagram empty = co_await aio::wait_for(a.recvfrom(), kLong);
    EXPECT_EQ(empty.data, "");
    EXPECT_EQ(empty.sender, b.sockname());
    EXPECT_EQ((co_await aio::wait_for(a.recvfrom(), kLong)).data, "after");
}

// Cancelling a waiting recvfrom() loses nothing, whichever moment the cancel lands at:
// before the datagram arrives, after the loop saw it and woke the receiver (which has not
// run yet), or after the receive completed. The loop polls epoll only every few dozen
// steps while tasks are ready, so cancelling after 0..139 yields covers each moment.
AIO_REAL_TEST(Datagrams, CancelledRecvfromLosesNoDatagram) {
    aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    aio::DatagramEndpoint client = co_await aio::open_datagram("127.0.0.1", server.sockname().port());
    int cancelled = 0;
    int completed = 0;
    for (int yields = 0; yields < 140; ++yields) {
        auto receiving = aio::create_task(server.recvfrom());
        co_await aio::sleep(0ms);
        CO_ASSERT_FALSE(receiving.done());
        const std::string msg = "datagram " + std::to_string(yields);
        co_await client.send(msg);
        for (int i = 0; i < yields; ++i) co_await aio::sleep(0ms);
        receiving.cancel();
        std::string got;
        try {
            got = (co_await receiving).data;
            ++completed;
        } catch (const aio::CancelledError&) {
            ++cancelled;
        }
        if (got.empty()) got = (co_await aio::wait_for(server.recvfrom(), kLong)).data;  // still queued
        CO_ASSERT_EQ(got, msg);
    }
    EXPECT_GT(cancelled, 0);
    EXPECT_GT(completed, 0);
    // Nothing is left over either: a fresh datagram is the next one received.
    co_await client.send("last");
    EXPECT_EQ((co_await aio::wait_for(server.recvfrom(), kLong)).data, "last");
}

AIO_REAL_TEST(Datagrams, SeveralReceiversAreServedInTurn) {
    aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    aio::DatagramEndpoint client = co_await aio::open_datagram("127.0.0.1", server.sockname().port());
    auto first = aio::create_task(server.recv());
    auto second = aio::create_task(server.recv());
    co_await aio::sleep(0ms);
    co_await client.send("one");
    co_await client.send("two");
    EXPECT_EQ(co_await aio::wait_for(first, kLong), "one");
    EXPECT_EQ(co_await aio::wait_for(second, kLong), "two");
}

AIO_REAL_TEST(Datagrams, PortUnreachableRaisesConnectionRefused) {
    const std::uint16_t port = closed_udp_port("127.0.0.1");
    aio::DatagramEndpoint ep = co_await aio::open_datagram("127.0.0.1", port);
    co_await ep.send("anyone?");
    std::string message;
    try {
        (void)co_await aio::wait_for(ep.recv(), kLong);
    } catch (const aio::ConnectionRefusedError& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << message;

    // The next error surfaces from send() too (asyncio's error_received), and the endpoint
    // stays usable after it.
    bool send_refused = false;
    for (int i = 0; i < 300 && !send_refused; ++i) {
        try {
            co_await ep.send("again");
            co_await aio::sleep(10ms);
        } catch (const aio::ConnectionRefusedError&) {
            send_refused = true;
        }
    }
    EXPECT_TRUE(send_refused);
    EXPECT_FALSE(ep.is_closing());
}

AIO_REAL_TEST(Datagrams, LargeDatagrams) {
    aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    aio::DatagramEndpoint client = co_await aio::open_datagram("127.0.0.1", server.sockname().port());
    EXPECT_EQ(server.max_datagram(), aio::kDefaultMaxDatagram);
    std::string big(65507, 'b');  // the largest UDP payload over IPv4
    big[0] = 'B';
    big.back() = 'E';
    co_await client.send(big);
    EXPECT_EQ((co_await aio::wait_for(server.recvfrom(), kLong)).data, big);

    int too_big_to_send = 0;
    try {
        co_await client.send(std::string(70000, 'x'));
    } catch (const aio::OSError& e) {
        too_big_to_send = e.code();
    }
    EXPECT_EQ(too_big_to_send, EMSGSIZE);

    // A receiver with a small limit reports the oversized datagram and goes on.
    aio::DatagramOptions small;
    small.max_datagram = 1000;
    aio::DatagramEndpoint picky = co_await aio::create_datagram_endpoint("127.0.0.1", 0, small);
    aio::DatagramEndpoint sender = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    co_await sender.sendto(std::string(1000, 'f'), picky.sockname());  // exactly the limit: fine
    co_await sender.sendto(std::string(2000, 'o'), picky.sockname());
    co_await sender.sendto("small", picky.sockname());
    EXPECT_EQ((co_await aio::wait_for(picky.recvfrom(), kLong)).data, std::string(1000, 'f'));
    std::string message;
    int code = 0;
    try {
        (void)co_await aio::wait_for(picky.recvfrom(), kLong);
    } catch (const aio::OSError& e) {
        code = e.code();
        message = e.what();
    }
    EXPECT_EQ(code, EMSGSIZE);
    EXPECT_NE(message.find("2000 bytes"), std::string::npos) << message;
    EXPECT_NE(message.find("limit of 1000"), std::string::npos) << message;
    EXPECT_NE(message.find(sender.sockname().to_string()), std::string::npos) << message;
    EXPECT_EQ((co_await aio::wait_for(picky.recvfrom(), kLong)).data, "small");

    // recvfrom_into: the caller's buffer is the limit.
    std::vector<std::byte> buf(8);
    co_await sender.sendto("12345678", picky.sockname());
    co_await sender.sendto("123456789", picky.sockname());
    co_await sender.sendto("ok", picky.sockname());
    auto [n, from] = co_await aio::wait_for(picky.recvfrom_into(buf), kLong);
    EXPECT_EQ(n, 8u);
    EXPECT_EQ(from, sender.sockname());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), n), "12345678");
    code = 0;
    try {
        (void)co_await aio::wait_for(picky.recvfrom_into(buf), kLong);
    } catch (const aio::OSError& e) {
        code = e.code();
    }
    EXPECT_EQ(code, EMSGSIZE);
    auto [n2, from2] = co_await aio::wait_for(picky.recvfrom_into(buf), kLong);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), n2), "ok");
}

AIO_REAL_TEST(Datagrams, CloseWakesWaitingReceivers) {
    aio::DatagramEndpoint ep = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    const aio::SocketAddress where = ep.sockname();
    auto first = aio::create_task(ep.recvfrom());
    auto second = aio::create_task(ep.recv());  // queued behind the first
    co_await aio::sleep(0ms);
    CO_ASSERT_FALSE(first.done());
    ep.close();
    EXPECT_TRUE(ep.is_closing());
    int woken = 0;
    try {
        (void)co_await aio::wait_for(first, kLong);
    } catch (const aio::RuntimeError& e) {
        woken += std::string(e.what()).find("closed DatagramEndpoint") != std::string::npos;
    }
    try {
        (void)co_await aio::wait_for(second, kLong);
    } catch (const aio::RuntimeError& e) {
        woken += std::string(e.what()).find("closed DatagramEndpoint") != std::string::npos;
    }
    EXPECT_EQ(woken, 2);
    EXPECT_EQ(ep.sockname(), where);  // still known after close
    EXPECT_FALSE(ep.get_extra_info("socket").has_value());
    bool refused = false;
    try {
        co_await ep.sendto("x", where);
    } catch (const aio::RuntimeError&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
    ep.close();  // idempotent
}

AIO_REAL_TEST(Datagrams, DestroyingTheEndpointWakesItsReceiver) {
    aio::DatagramEndpoint made = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    auto ep = std::make_unique<aio::DatagramEndpoint>(std::move(made));
    auto receiving = aio::create_task(ep->recvfrom());
    co_await aio::sleep(0ms);
    ep.reset();  // the receiver's frame keeps what it needs
    bool woken = false;
    try {
        (void)co_await aio::wait_for(receiving, kLong);
    } catch (const aio::RuntimeError&) {
        woken = true;
    }
    EXPECT_TRUE(woken);
}

AIO_REAL_TEST(Datagrams, MovedFromEndpointIsEmpty) {
    aio::DatagramEndpoint a = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    const aio::SocketAddress where = a.sockname();
    aio::DatagramEndpoint b = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_TRUE(a.is_closing());
    EXPECT_THROW((void)a.recvfrom(), aio::InvalidStateError);
    EXPECT_EQ(b.sockname(), where);
    aio::DatagramEndpoint c = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    c = std::move(b);  // closes c's own socket
    EXPECT_EQ(c.sockname(), where);
}

AIO_REAL_TEST(Datagrams, BadArgumentsAreRefusedClearly) {
    aio::DatagramOptions zero;
    zero.max_datagram = 0;
    std::vector<std::string> errors;
    try {
        (void)co_await aio::create_datagram_endpoint("127.0.0.1", 0, zero);
    } catch (const aio::ValueError& e) {
        errors.emplace_back(e.what());
    }
    try {
        (void)co_await aio::create_datagram_endpoint(std::nullopt, std::nullopt);
    } catch (const aio::ValueError& e) {
        errors.emplace_back(e.what());
    }
    try {
        (void)co_await aio::create_datagram_endpoint(addr("127.0.0.1", 0), addr("::1", 53));
    } catch (const aio::ValueError& e) {
        errors.emplace_back(e.what());
    }
    aio::DatagramOptions v6;
    v6.family = AF_INET6;
    try {
        (void)co_await aio::create_datagram_endpoint(addr("127.0.0.1", 0), std::nullopt, v6);
    } catch (const aio::ValueError& e) {
        errors.emplace_back(e.what());
    }
    try {
        aio::DatagramEndpoint stream(aio::Socket(AF_INET, SOCK_STREAM));
    } catch (const aio::ValueError& e) {
        errors.emplace_back(e.what());
    }
    CO_ASSERT_EQ(errors.size(), 5u);
    EXPECT_NE(errors[0].find("max_datagram"), std::string::npos) << errors[0];
    EXPECT_NE(errors[1].find("unexpected address family"), std::string::npos) << errors[1];
    EXPECT_NE(errors[2].find("different address families"), std::string::npos) << errors[2];
    EXPECT_NE(errors[3].find("AF_INET6"), std::string::npos) << errors[3];
    EXPECT_NE(errors[4].find("datagram socket was expected"), std::string::npos) << errors[4];
}

AIO_REAL_TEST(Datagrams, EndpointFromAnAddressOrASocket) {
    // Neither address: an unbound socket of the given family that binds on first send.
    aio::DatagramOptions v4;
    v4.family = AF_INET;
    aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint(addr("127.0.0.1", 0), std::nullopt);
    aio::DatagramEndpoint unbound = co_await aio::create_datagram_endpoint(std::nullopt, std::nullopt, v4);
    EXPECT_EQ(unbound.sockname().port(), 0);
    co_await unbound.sendto("hi", server.sockname());
    aio::Datagram got = co_await aio::wait_for(server.recvfrom(), kLong);
    EXPECT_EQ(got.data, "hi");
    EXPECT_NE(unbound.sockname().port(), 0);
    EXPECT_EQ(got.sender.port(), unbound.sockname().port());

    // Remote only, from an address.
    aio::DatagramEndpoint connected = co_await aio::create_datagram_endpoint(std::nullopt, server.sockname());
    EXPECT_EQ(*connected.peername(), server.sockname());

    // sock=: an existing socket, used with sock_* before, connected by hand.
    aio::Socket raw(AF_INET, SOCK_DGRAM);
    raw.bind(addr("127.0.0.1", 0));
    co_await aio::sock_connect(raw, server.sockname());
    aio::DatagramEndpoint adopted(std::move(raw));
    EXPECT_EQ(*adopted.peername(), server.sockname());
    co_await adopted.send("adopted");
    EXPECT_EQ((co_await aio::wait_for(server.recvfrom(), kLong)).data, "adopted");
}

AIO_REAL_TEST(Datagrams, NamesAndWildcards) {
    aio::DatagramOptions v4;
    v4.family = AF_INET;
    aio::DatagramEndpoint any = co_await aio::create_datagram_endpoint("", 0);
    EXPECT_EQ(any.sockname().host(), "0.0.0.0");
    aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint("localhost", 0, v4);
    EXPECT_EQ(server.sockname().host(), "127.0.0.1");
    aio::DatagramEndpoint client = co_await aio::open_datagram("localhost", server.sockname().port(), v4);
    EXPECT_EQ(*client.peername(), server.sockname());
    aio::DatagramEndpoint both = co_await aio::create_datagram_endpoint("", 0, "127.0.0.1", server.sockname().port());
    EXPECT_EQ(*both.peername(), server.sockname());
    co_await client.send("by name");
    co_await both.send("wildcard local");
    EXPECT_EQ((co_await aio::wait_for(server.recvfrom(), kLong)).data, "by name");
    EXPECT_EQ((co_await aio::wait_for(server.recvfrom(), kLong)).data, "wildcard local");
}

AIO_REAL_TEST(Datagrams, ReusePort) {
    aio::DatagramOptions reuse;
    reuse.reuse_port = true;
    aio::DatagramEndpoint a = co_await aio::create_datagram_endpoint("127.0.0.1", 0, reuse);
    aio::DatagramEndpoint b = co_await aio::create_datagram_endpoint("127.0.0.1", a.sockname().port(), reuse);
    EXPECT_EQ(a.sockname(), b.sockname());
    int code = 0;
    try {
        (void)co_await aio::create_datagram_endpoint("127.0.0.1", a.sockname().port());
    } catch (const aio::OSError& e) {
        code = e.code();
    }
    EXPECT_EQ(code, EADDRINUSE);
}

AIO_REAL_TEST(Datagrams, UnixDatagramSockets) {
    char tmpl[] = "/tmp/aiocpp-dgram-XXXXXX";
    CO_ASSERT_TRUE(::mkdtemp(tmpl) != nullptr);
    const std::string dir = tmpl;
    const auto server_addr = aio::SocketAddress::unix_path(dir + "/server.sock");
    {
        // A stale socket file left by an earlier run is replaced.
        aio::Socket stale(AF_UNIX, SOCK_DGRAM);
        stale.bind(server_addr);
    }
    {
        aio::DatagramEndpoint server = co_await aio::create_datagram_endpoint(server_addr, std::nullopt);
        aio::DatagramEndpoint client =
            co_await aio::create_datagram_endpoint(aio::SocketAddress::unix_path(dir + "/client.sock"), server_addr);
        co_await client.send("over unix");
        aio::Datagram got = co_await aio::wait_for(server.recvfrom(), kLong);
        EXPECT_EQ(got.data, "over unix");
        EXPECT_EQ(got.sender.to_string(), dir + "/client.sock");
        co_await server.sendto("back", got.sender);
        EXPECT_EQ(co_await aio::wait_for(client.recv(), kLong), "back");
    }
    ::unlink((dir + "/server.sock").c_str());
    ::unlink((dir + "/client.sock").c_str());
    ::rmdir(dir.c_str());
}

AIO_REAL_TEST(Datagrams, NoDescriptorLeaks) {
    const int before = aio::test::open_fd_count();
    aio::DatagramEndpoint holder = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
    for (int i = 0; i < 50; ++i) {
        aio::DatagramEndpoint ep = co_await aio::create_datagram_endpoint("127.0.0.1", 0);
        co_await ep.sendto("x", holder.sockname());
        if (i % 2) ep.close();
        try {
            (void)co_await aio::create_datagram_endpoint("127.0.0.1", holder.sockname().port());  // in use
        } catch (const aio::OSError&) {
        }
    }
    for (int i = 0; i < 50; ++i) (void)co_await aio::wait_for(holder.recvfrom(), kLong);
    holder.close();
    EXPECT_EQ(aio::test::open_fd_count(), before);
}
