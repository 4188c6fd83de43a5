#include "aio/http/dns_cache.hpp"

#include "aio/net/dns.hpp"
#include "aio/tasks.hpp"
#include "fake_dns.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;
using aio::test::FakeDns;

namespace {

std::vector<std::string> hosts(const std::vector<aio::SocketAddress>& addrs) {
    std::vector<std::string> out;
    for (const auto& a : addrs) out.push_back(a.host() + ":" + std::to_string(a.port()));
    return out;
}

aio::Coro<std::vector<aio::SocketAddress>> lookup(aio::http::DnsCache& cache, std::string host) {
    co_return co_await cache.resolve(host, 80);
}

}  // namespace

AIO_REAL_TEST(DnsCache, AnswersFromTheCacheUntilTheTtlRunsOut) {
    FakeDns server;
    server.add("api.example", {"10.0.0.1", "10.0.0.2"});
    aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
    aio::http::DnsCache cache(10s);
    // Named lists: g++ 12 refuses a braced list in a statement with co_await.
    const std::vector<std::string> on_443 = {"10.0.0.1:443", "10.0.0.2:443"};
    const std::vector<std::string> on_80 = {"10.0.0.1:80", "10.0.0.2:80"};
    auto first = co_await cache.resolve("api.example", 443);
    EXPECT_EQ(hosts(first), on_443);
    const int one_lookup = server.queries();  // A and AAAA
    EXPECT_GE(one_lookup, 1);
    auto second = co_await cache.resolve("api.example", 443);
    EXPECT_EQ(hosts(second), on_443);
    EXPECT_EQ(server.queries(), one_lookup);
    auto other_port = co_await cache.resolve("api.example", 80);  // another port: its own entry
    EXPECT_EQ(hosts(other_port), on_80);
    EXPECT_EQ(cache.size(), 2u);
    cache.clear("api.example");
    EXPECT_EQ(cache.size(), 0u);
    const int before = server.queries();
    (void)co_await cache.resolve("api.example", 443);
    EXPECT_GT(server.queries(), before);

    aio::http::DnsCache short_lived(1ms);
    (void)co_await short_lived.resolve("api.example", 443);
    co_await aio::sleep(20ms);
    const int stale = server.queries();
    (void)co_await short_lived.resolve("api.example", 443);
    EXPECT_GT(server.queries(), stale);  // expired: asked again
}

AIO_REAL_TEST(DnsCache, ConcurrentLookupsOfOneNameAskOnce) {
    FakeDns server;
    server.add("busy.example", {"10.0.0.9"});
    server.set_delay(50ms);
    aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
    aio::http::DnsCache cache;
    std::vector<aio::Task<std::vector<aio::SocketAddress>>> lookups;
    for (int i = 0; i < 5; ++i) lookups.push_back(aio::create_task(lookup(cache, "busy.example")));
    auto results = co_await aio::gather(lookups);
    const std::vector<std::string> want = {"10.0.0.9:80"};
    for (const auto& r : results) EXPECT_EQ(hosts(r), want);
    EXPECT_LE(server.queries(), 2);  // one lookup (c-ares may ask A and AAAA)
}

AIO_REAL_TEST(DnsCache, FailuresAndCancelledLookupsAreNotCached) {
    FakeDns server;
    server.add("later.example", {"10.0.0.5"});
    aio::dns::configure({.servers = server.address(), .timeout = 2s, .tries = 1});
    aio::http::DnsCache cache;
    for (int i = 0; i < 2; ++i) {
        bool failed = false;
        try {
            (void)co_await cache.resolve("missing.example", 80);
        } catch (const aio::GaiError&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
    }
    EXPECT_EQ(cache.size(), 0u);
    const int before = server.queries();
    (void)co_await cache.resolve("later.example", 80);
    EXPECT_GT(server.queries(), before);

    server.set_delay(200ms);
    cache.clear();
    auto slow = aio::create_task(lookup(cache, "later.example"));
    auto waiter = aio::create_task(lookup(cache, "later.example"));
    co_await aio::sleep(20ms);
    slow.cancel();
    const std::vector<std::string> want = {"10.0.0.5:80"};
    auto got = co_await waiter;
    EXPECT_EQ(hosts(got), want);  // looked up again itself
    bool cancelled = false;
    try {
        (void)co_await slow;
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
}

AIO_TEST(DnsCache, NumericHostsAreNeitherAskedNorCached) {
    aio::http::DnsCache cache;
    const std::vector<std::string> v4 = {"127.0.0.1:8080"}, v6 = {"::1:8080"};
    auto a = co_await cache.resolve("127.0.0.1", 8080);
    auto b = co_await cache.resolve("::1", 8080);
    EXPECT_EQ(hosts(a), v4);
    EXPECT_EQ(hosts(b), v6);
    EXPECT_EQ(cache.size(), 0u);
}
