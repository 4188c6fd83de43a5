#include "aio/net/dns.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "aio/runners.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "aio/tasks.hpp"
#include "fake_dns.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;
using aio::test::FakeDns;

namespace {

bool is_loopback(const aio::SocketAddress& a) {
    if (a.family() == AF_INET) return a.host().rfind("127.", 0) == 0;
    return a.family() == AF_INET6 && a.host() == "::1";
}

std::vector<std::string> hosts_of(const std::vector<aio::AddrInfo>& infos) {
    std::vector<std::string> out;
    for (const auto& i : infos) out.push_back(i.address.host());
    return out;
}

/// Runs `body` on a real loop (aio::run): c-ares deadlines are real time. Fails the test if
/// a file descriptor was left open.
template <class F>
void run_real(F&& body) {
    const int fds = aio::test::open_fd_count();
    aio::run(body());
    EXPECT_EQ(aio::test::open_fd_count(), fds) << "file descriptors leaked";
}

}  // namespace

// ---- numeric hosts: no query -------------------------------------------------------------

AIO_TEST(DnsNumeric, IPv4PassesThrough) {
    auto infos = co_await aio::getaddrinfo("127.0.0.1", 8080);
    CO_ASSERT_EQ(infos.size(), 1u);
    const aio::AddrInfo& i = infos.front();
    EXPECT_EQ(i.family, AF_INET);
    EXPECT_EQ(i.socktype, SOCK_STREAM);
    EXPECT_EQ(i.protocol, IPPROTO_TCP);
    EXPECT_EQ(i.address.to_string(), "127.0.0.1:8080");
    EXPECT_EQ(i.canonname, "");
}

AIO_TEST(DnsNumeric, IPv6PassesThroughWithOrWithoutBrackets) {
    auto plain = co_await aio::getaddrinfo("::1", 443);
    CO_ASSERT_EQ(plain.size(), 1u);
    EXPECT_EQ(plain.front().family, AF_INET6);
    EXPECT_EQ(plain.front().address.to_string(), "[::1]:443");
    auto bracketed = co_await aio::getaddrinfo("[::1]", 443);
    CO_ASSERT_EQ(bracketed.size(), 1u);
    EXPECT_EQ(bracketed.front().address, plain.front().address);
}

AIO_TEST(DnsNumeric, SocktypeZeroGivesStreamDatagramAndRaw) {
    auto infos = co_await aio::getaddrinfo("10.0.0.1", 53, {.socktype = 0});
    CO_ASSERT_EQ(infos.size(), 3u);
    EXPECT_EQ(infos.at(0).socktype, SOCK_STREAM);
    EXPECT_EQ(infos.at(0).protocol, IPPROTO_TCP);
    EXPECT_EQ(infos.at(1).socktype, SOCK_DGRAM);
    EXPECT_EQ(infos.at(1).protocol, IPPROTO_UDP);
    EXPECT_EQ(infos.at(2).socktype, SOCK_RAW);
    EXPECT_EQ(infos.at(2).protocol, 0);
}

AIO_TEST(DnsNumeric, CanonnameIsTheHostOnTheFirstResult) {
    auto infos = co_await aio::getaddrinfo("[::1]", 1, {.socktype = SOCK_DGRAM, .flags = AI_CANONNAME});
    CO_ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(infos.front().canonname, "::1");
    EXPECT_EQ(infos.front().protocol, IPPROTO_UDP);
}

AIO_TEST(DnsNumeric, FamilyMismatchIsAGaiError) {
    int code = 0;
    std::string message;
    try {
        co_await aio::getaddrinfo("::1", 80, {.family = AF_INET});
    } catch (const aio::GaiError& e) {
        code = e.code();
        message = e.what();
    }
    EXPECT_EQ(code, EAI_ADDRFAMILY);
    EXPECT_EQ(message, "GaiError: Address family for hostname not supported (resolving ::1)");
}

AIO_TEST(DnsNumeric, V4MappedForAnIPv6Request) {
    auto infos = co_await aio::getaddrinfo("127.0.0.1", 80, {.family = AF_INET6, .flags = AI_V4MAPPED});
    CO_ASSERT_EQ(infos.size(), 1u);
    EXPECT_EQ(infos.front().address.to_string(), "[::ffff:127.0.0.1]:80");
}

AIO_TEST(DnsNumeric, NumericHostFlagRefusesNames) {
    bool raised = false;
    try {
        co_await aio::getaddrinfo("localhost", 80, {.flags = AI_NUMERICHOST});
    } catch (const aio::GaiError& e) {
        raised = true;
        EXPECT_EQ(e.code(), EAI_NONAME);
        EXPECT_NE(std::string(e.what()).find("localhost"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(raised);
}

TEST(DnsNumeric, NoQueryIsSentForNumericHosts) {
    FakeDns server;
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
        auto v4 = co_await aio::getaddrinfo("192.0.2.7", 1);
        auto v6 = co_await aio::getaddrinfo("2001:db8::1", 2);
        EXPECT_EQ(hosts_of(v4), std::vector<std::string>{"192.0.2.7"});
        EXPECT_EQ(hosts_of(v6), std::vector<std::string>{"2001:db8::1"});
    });
    EXPECT_EQ(server.queries(), 0);
}

// ---- bad requests: GaiError without a query -----------------------------------------------

TEST(DnsErrors, EmptyAndOverlongHostsAreRefusedWithoutAQuery) {
    FakeDns server;
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
        std::string empty_message;
        try {
            co_await aio::getaddrinfo("", 80);
        } catch (const aio::GaiError& e) {
            empty_message = e.what();
            EXPECT_EQ(e.code(), EAI_NONAME);
        }
        EXPECT_EQ(empty_message, "GaiError: Empty host name (resolving \"\")");
        const std::string long_host = std::string(250, 'a') + ".com";
        std::string long_message;
        try {
            co_await aio::getaddrinfo(long_host, 80);
        } catch (const aio::GaiError& e) {
            long_message = e.what();
        }
        EXPECT_NE(long_message.find("longer than 253 bytes"), std::string::npos) << long_message;
        EXPECT_NE(long_message.find("aaaa"), std::string::npos) << long_message;
    });
    EXPECT_EQ(server.queries(), 0);
}

TEST(DnsErrors, BadServerListIsAValueError) {
    run_real([&]() -> aio::Coro<> {
        std::string message;
        try {
            aio::dns::configure({.servers = "not an address"});
        } catch (const aio::Error& e) {
            message = e.what();
        }
        EXPECT_NE(message.find("ValueError: invalid DNS server list \"not an address\""), std::string::npos) << message;
        // The resolver keeps its previous settings and still works.
        auto infos = co_await aio::getaddrinfo("localhost", 1, {.family = AF_INET});
        EXPECT_FALSE(infos.empty());
    });
}

// ---- names, through c-ares ------------------------------------------------------------------

TEST(DnsNames, LocalhostResolvesToLoopbackAddresses) {
    FakeDns server;  // so that nothing leaves the machine even if the hosts file lacks it
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
        auto any = co_await aio::getaddrinfo("localhost", 8080);
        CO_ASSERT_FALSE(any.empty());
        for (const auto& i : any) {
            EXPECT_TRUE(is_loopback(i.address)) << i.address.to_string();
            EXPECT_EQ(i.address.port(), 8080);
            EXPECT_EQ(i.socktype, SOCK_STREAM);
            EXPECT_EQ(i.protocol, IPPROTO_TCP);
            EXPECT_EQ(i.family, i.address.family());
        }
        auto v4 = co_await aio::getaddrinfo("localhost", 80, {.family = AF_INET});
        CO_ASSERT_FALSE(v4.empty());
        for (const auto& i : v4) EXPECT_EQ(i.family, AF_INET);
        const auto hosts = hosts_of(v4);
        EXPECT_NE(std::find(hosts.begin(), hosts.end(), "127.0.0.1"), hosts.end());
    });
}

TEST(DnsNames, ResolvesThroughADnsServer) {
    FakeDns server;
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
        auto v4 = co_await aio::getaddrinfo("test.example", 443, {.family = AF_INET});
        CO_ASSERT_EQ(v4.size(), 1u);
        EXPECT_EQ(v4.front().address.to_string(), "10.1.2.3:443");
        EXPECT_EQ(v4.front().family, AF_INET);
        EXPECT_EQ(v4.front().protocol, IPPROTO_TCP);
        // Both families asked for: the AAAA query has an empty answer, the A query gives one.
        auto any = co_await aio::getaddrinfo("TEST.example", 80, {.flags = AI_CANONNAME});
        CO_ASSERT_EQ(any.size(), 1u);
        EXPECT_EQ(any.front().address.to_string(), "10.1.2.3:80");
        EXPECT_FALSE(any.front().canonname.empty());
    });
    EXPECT_GE(server.queries(), 3);
}

TEST(DnsNames, ConcurrentLookupsShareTheChannel) {
    FakeDns server;
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
        auto [a, b, c] = co_await aio::gather(aio::return_exceptions, aio::getaddrinfo("test.example", 1),
                                              aio::getaddrinfo("missing.example", 2),
                                              aio::getaddrinfo("test.example", 3, {.family = AF_INET}));
        CO_ASSERT_TRUE(a.has_value());
        EXPECT_EQ(hosts_of(a.value()), std::vector<std::string>{"10.1.2.3"});
        EXPECT_FALSE(b.has_value());
        CO_ASSERT_TRUE(c.has_value());
        EXPECT_EQ(c.value().front().address.port(), 3);
    });
}

TEST(DnsNames, UnknownNameIsAGaiErrorNamingTheHost) {
    FakeDns server;
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
        std::string message;
        int code = 0;
        try {
            co_await aio::getaddrinfo("nonexistent.invalid", 80);
        } catch (const aio::GaiError& e) {
            message = e.what();
            code = e.code();
        }
        EXPECT_EQ(message, "GaiError: Domain name not found (resolving nonexistent.invalid)");
        EXPECT_EQ(code, EAI_NONAME);
    });
    EXPECT_GE(server.queries(), 1);
}

TEST(DnsNames, NoAddressOfTheFamilyAskedForIsAGaiError) {
    FakeDns server;
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
        std::string message;
        try {
            co_await aio::getaddrinfo("test.example", 80, {.family = AF_INET6});
        } catch (const aio::GaiError& e) {
            message = e.what();
        }
        EXPECT_NE(message.find("(resolving test.example)"), std::string::npos) << message;
    });
}

TEST(DnsNames, ServerThatNeverAnswersTimesOut) {
    FakeDns server(FakeDns::Mode::silent);
    const auto start = std::chrono::steady_clock::now();
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 200ms, .tries = 1});
        std::string message;
        int code = 0;
        try {
            co_await aio::getaddrinfo("test.example", 80, {.family = AF_INET});
        } catch (const aio::GaiError& e) {
            message = e.what();
            code = e.code();
        }
        EXPECT_EQ(message, "GaiError: DNS query timed out (resolving test.example)");
        EXPECT_EQ(code, EAI_AGAIN);
    });
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 150ms);
    EXPECT_LT(took, 10s);
    EXPECT_GE(server.queries(), 1);
}

// ---- cancellation ---------------------------------------------------------------------------

TEST(DnsCancel, CancellingAPendingLookupRaisesPromptly) {
    FakeDns server(FakeDns::Mode::silent);
    const auto start = std::chrono::steady_clock::now();
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 30s, .tries = 1});
        auto t = aio::create_task(aio::getaddrinfo("test.example", 80));
        while (server.queries() == 0) co_await aio::sleep(2ms);
        t.cancel();
        bool cancelled = false;
        try {
            co_await t;
        } catch (const aio::CancelledError&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        // The query is still in flight inside c-ares: the loop's close destroys the
        // channel, whose callback must not reach the awaiter that is gone.
    });
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(DnsCancel, AnAnswerArrivingAfterTheCancelIsDiscarded) {
    FakeDns server;
    server.set_delay(100ms);
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 5s, .tries = 1});
        auto t = aio::create_task(aio::getaddrinfo("test.example", 80, {.family = AF_INET}));
        while (server.queries() == 0) co_await aio::sleep(2ms);
        t.cancel();
        EXPECT_THROW(co_await t, aio::CancelledError);
        co_await aio::sleep(400ms);  // the late answer reaches c-ares meanwhile
        server.set_delay(0ms);
        auto infos = co_await aio::getaddrinfo("test.example", 81, {.family = AF_INET});
        EXPECT_EQ(hosts_of(infos), std::vector<std::string>{"10.1.2.3"});
    });
}

TEST(DnsCancel, ATimeoutAfterTheCancelIsDiscarded) {
    FakeDns server(FakeDns::Mode::silent);
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 100ms, .tries = 1});
        auto t = aio::create_task(aio::getaddrinfo("test.example", 80));
        while (server.queries() == 0) co_await aio::sleep(2ms);
        t.cancel();
        EXPECT_THROW(co_await t, aio::CancelledError);
        co_await aio::sleep(400ms);  // the query times out inside c-ares meanwhile
        server.set_silent(false);
        auto infos = co_await aio::getaddrinfo("test.example", 81, {.family = AF_INET});
        EXPECT_EQ(hosts_of(infos), std::vector<std::string>{"10.1.2.3"});
    });
}

TEST(DnsCancel, ConfigureWhileALookupIsAwaitedIsRefused) {
    FakeDns server(FakeDns::Mode::silent);
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 30s, .tries = 1});
        auto t = aio::create_task(aio::getaddrinfo("test.example", 80));
        while (server.queries() == 0) co_await aio::sleep(2ms);
        EXPECT_THROW(aio::dns::configure({.servers = server.address()}), aio::RuntimeError);
        t.cancel();
        EXPECT_THROW(co_await t, aio::CancelledError);
        aio::dns::configure({.servers = server.address(), .timeout = 30s, .tries = 1});  // nobody waits now
    });
}

TEST(DnsCancel, LoopClosedWhileALookupIsAwaited) {
    FakeDns server(FakeDns::Mode::silent);
    const int fds = aio::test::open_fd_count();
    {
        aio::test::TestLoop loop;
        aio::dns::configure(loop.loop(), {.servers = server.address(), .timeout = 30s, .tries = 1});
        loop.spawn(aio::getaddrinfo("test.example", 80));
        for (int i = 0; i < 5000 && server.queries() == 0; ++i) {
            loop.run_briefly();
            std::this_thread::sleep_for(1ms);
        }
        EXPECT_GE(server.queries(), 1);
        // Closing the loop destroys the parked frame (its awaiter detaches), then the
        // channel, whose ARES_EDESTRUCTION callback finds no awaiter.
        loop.loop().close();
        const auto reports = loop.take_reports();
        EXPECT_LE(reports.size(), 1u);  // the pending task, in debug mode
    }
    EXPECT_EQ(aio::test::open_fd_count(), fds) << "file descriptors leaked";
}

// ---- the virtual-time test loop ---------------------------------------------------------------

namespace {
aio::Coro<> virtual_lookup(aio::test::TestLoop& loop, FakeDns& server) {
    aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
    // A sleeper must not make the virtual clock jump while the answer is awaited.
    auto sleeper = aio::create_task([]() -> aio::Coro<> { co_await aio::sleep(1h); });
    auto infos = co_await aio::getaddrinfo("test.example", 80, {.family = AF_INET});
    EXPECT_EQ(hosts_of(infos), std::vector<std::string>{"10.1.2.3"});
    EXPECT_LT(loop.elapsed(), 1h);
    sleeper.cancel();
    EXPECT_THROW(co_await sleeper, aio::CancelledError);
}

aio::Coro<> virtual_timeout(aio::test::TestLoop& loop, FakeDns& server) {
    aio::dns::configure({.servers = server.address(), .timeout = 150ms, .tries = 1});
    const auto start = std::chrono::steady_clock::now();
    std::string message;
    try {
        co_await aio::getaddrinfo("test.example", 80, {.family = AF_INET});
    } catch (const aio::GaiError& e) {
        message = e.what();
    }
    EXPECT_EQ(message, "GaiError: DNS query timed out (resolving test.example)");
    EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);  // real time, not virtual
    EXPECT_EQ(loop.elapsed(), 0ms);
}

aio::Coro<> virtual_cancel(aio::test::TestLoop&, FakeDns& server) {
    aio::dns::configure({.servers = server.address(), .timeout = 30s, .tries = 1});
    auto t = aio::create_task(aio::getaddrinfo("test.example", 80));
    while (server.queries() == 0) co_await aio::sleep(0ms);
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    // After the cancel nothing awaits the query: the virtual clock moves freely again.
    co_await aio::sleep(1h);
}
}  // namespace

TEST(DnsVirtualTime, LookupsWorkOnTheTestLoop) {
    FakeDns server;
    aio::test::TestLoop loop;
    loop.run_test(virtual_lookup(loop, server));
}

TEST(DnsVirtualTime, TimeoutsTakeRealTime) {
    FakeDns server(FakeDns::Mode::silent);
    aio::test::TestLoop loop;
    loop.run_test(virtual_timeout(loop, server));
}

TEST(DnsVirtualTime, CancelledLookupLeavesNothingBehind) {
    FakeDns server(FakeDns::Mode::silent);
    aio::test::TestLoop loop;
    loop.run_test(virtual_cancel(loop, server));
}

// ---- getnameinfo ------------------------------------------------------------------------------

AIO_TEST(DnsNameInfo, NumericHostAndService) {
    const aio::SocketAddress addr = *aio::SocketAddress::parse("127.0.0.1", 80);
    auto [host, service] = co_await aio::getnameinfo(addr, NI_NUMERICHOST | NI_NUMERICSERV);
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(service, "80");
    const aio::SocketAddress v6 = *aio::SocketAddress::parse("::1", 8443);
    auto [host6, service6] = co_await aio::getnameinfo(v6, NI_NUMERICHOST | NI_NUMERICSERV);
    EXPECT_EQ(host6, "::1");
    EXPECT_EQ(service6, "8443");
}

TEST(DnsNameInfo, ReverseLookups) {
    FakeDns server;
    run_real([&]() -> aio::Coro<> {
        aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
        // From the hosts file.
        const aio::SocketAddress loopback = *aio::SocketAddress::parse("127.0.0.1", 80);
        auto [host, service] = co_await aio::getnameinfo(loopback, NI_NUMERICSERV);
        EXPECT_EQ(host.rfind("localhost", 0), 0u) << host;
        EXPECT_EQ(service, "80");
        // No PTR record: the numeric address, or an error with NI_NAMEREQD.
        const aio::SocketAddress unknown = *aio::SocketAddress::parse("10.9.9.9", 53);
        auto [numeric, port] = co_await aio::getnameinfo(unknown, NI_NUMERICSERV);
        EXPECT_EQ(numeric, "10.9.9.9");
        EXPECT_EQ(port, "53");
        std::string message;
        try {
            co_await aio::getnameinfo(unknown, NI_NUMERICSERV | NI_NAMEREQD);
        } catch (const aio::GaiError& e) {
            message = e.what();
        }
        EXPECT_NE(message.find("(resolving 10.9.9.9:53)"), std::string::npos) << message;
    });
}

AIO_TEST(DnsNameInfo, NonIpAddressIsAGaiError) {
    const aio::SocketAddress path = aio::SocketAddress::unix_path("/tmp/x.sock");
    EXPECT_THROW(co_await aio::getnameinfo(path, NI_NUMERICHOST), aio::GaiError);
}
