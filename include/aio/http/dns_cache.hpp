// A cache of resolved host names for the client's connections (aiohttp's TCPConnector
// use_dns_cache / ttl_dns_cache).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aio/coro.hpp"
#include "aio/detail/timers.hpp"
#include "aio/locks.hpp"
#include "aio/net/addresses.hpp"

namespace aio::http {

/// Remembers what each (host, port) resolved to for `ttl`, so a session opening many
/// connections to one host asks DNS once per TTL; lookups of a name already being
/// resolved wait for that answer instead of asking again. Failures are not cached.
/// Numeric hosts are parsed, never cached.
/// Thread-safety: loop-affine.
class DnsCache {
public:
    explicit DnsCache(std::chrono::milliseconds ttl = std::chrono::seconds(10)) noexcept : ttl_(ttl) {}

    /// The addresses of `host`:`port` (TCP), from the cache while fresh, else from
    /// aio::getaddrinfo; raises its GaiError.
    /// Cancellation: Cancel-safe: a cancelled waiter leaves the lookup to the others; a
    /// cancelled lookup caches nothing.
    [[nodiscard]] Coro<std::vector<SocketAddress>> resolve(std::string_view host, std::uint16_t port);
    /// Forgets `host` (every port), or everything when empty (aiohttp's clear_dns_cache).
    void clear(std::string_view host = {});
    /// Entries held now, fresh or stale.
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    struct Entry {
        std::vector<SocketAddress> addresses;
        Clock::time_point expires{};
        std::shared_ptr<Event> resolving;  // set while a lookup is in flight
    };
    std::chrono::milliseconds ttl_;
    std::unordered_map<std::string, Entry> entries_;  // "host:port"
};

}  // namespace aio::http
