// Asynchronous name resolution on c-ares: getaddrinfo and getnameinfo (asyncio's
// loop.getaddrinfo and loop.getnameinfo).
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/net/addresses.hpp"

namespace aio {

class EventLoop;

/// One result of `getaddrinfo()`: the fields of asyncio's 5-tuple
/// `(family, type, proto, canonname, sockaddr)`.
struct AddrInfo {
    int family;         ///< AF_INET or AF_INET6
    int socktype;       ///< SOCK_STREAM, SOCK_DGRAM or SOCK_RAW
    int protocol;       ///< IPPROTO_TCP, IPPROTO_UDP or 0
    SocketAddress address;  ///< with the requested port
    std::string canonname;  ///< with AI_CANONNAME, on the first result only; else empty
};

/// What `getaddrinfo()` asks for: the keyword arguments of `loop.getaddrinfo`.
struct AddrInfoOptions {
    /// AF_UNSPEC (both), AF_INET or AF_INET6.
    int family = AF_UNSPEC;
    /// SOCK_STREAM by default; 0 gives one result per address and type (stream, datagram,
    /// raw), as the C library does.
    int socktype = SOCK_STREAM;
    /// 0: the type's usual protocol (IPPROTO_TCP for streams, IPPROTO_UDP for datagrams).
    int protocol = 0;
    /// AI_* flags: AI_CANONNAME, AI_NUMERICHOST, AI_PASSIVE, AI_V4MAPPED, AI_ALL,
    /// AI_ADDRCONFIG (AI_NUMERICSERV is implied: the port is a number).
    int flags = 0;
};
static_assert(std::is_trivially_destructible_v<AddrInfoOptions>, "options structs must be trivially destructible (g++ 12)");

/// Resolves `host` to addresses with `port` filled in (loop.getaddrinfo), in the order
/// the resolver gives (RFC 6724 preference for names).
///
/// Numeric hosts ("10.0.0.1", "::1", "[::1]") are parsed and returned at once, without a
/// query. Names are looked up in the hosts file, then asked of the DNS servers of
/// /etc/resolv.conf or `dns::configure()`, on the running loop's c-ares channel; the task
/// suspends while the loop keeps running. `host` is copied at the call.
///
/// Failures raise GaiError naming the host, with `code()` the EAI_* value the C library
/// would report: EAI_NONAME for a name that does not exist (or an empty host, or one over
/// 253 bytes), EAI_NODATA for a name with no address of the family asked for, EAI_AGAIN
/// when the DNS servers did not answer in time ("DNS query timed out") or failed,
/// EAI_ADDRFAMILY for a numeric host of the wrong family.
/// Cancellation: Cancel-safe: if cancelled, CancelledError is raised at once and the
/// query's late answer is discarded.
/// Thread-safety: loop-affine.
[[nodiscard]] Coro<std::vector<AddrInfo>> getaddrinfo(std::string_view host, std::uint16_t port,
                                                      AddrInfoOptions options = {});

/// Reverse lookup of an IP address: `{host, service}` (loop.getnameinfo). `flags` are NI_*
/// flags: NI_NUMERICHOST, NI_NUMERICSERV, NI_NAMEREQD, NI_NOFQDN, NI_DGRAM.
///
/// With NI_NUMERICHOST no query is made; otherwise the hosts file, then a PTR query on the
/// loop's c-ares channel give the name (the numeric address if none, unless NI_NAMEREQD).
/// The service is the port's name from /etc/services, or the number with NI_NUMERICSERV.
/// Failures raise GaiError naming the address. `addr` is copied at the call.
/// Cancellation: Cancel-safe: if cancelled, CancelledError is raised at once and the
/// query's late answer is discarded.
/// Thread-safety: loop-affine.
[[nodiscard]] Coro<std::pair<std::string, std::string>> getnameinfo(const SocketAddress& addr, int flags = 0);

namespace dns {

/// Settings of a loop's resolver (the c-ares channel behind `getaddrinfo`), for pointing
/// it at particular servers or bounding how long a lookup may take.
struct ResolverOptions {
    /// DNS servers, comma-separated "ip" or "ip:port" ("10.0.0.2,[::1]:5353"); empty: the
    /// servers of /etc/resolv.conf. Copied by `configure()`.
    std::string_view servers = {};
    /// How long to wait for an answer on a first try (later tries wait longer); zero: the
    /// system's setting (resolv.conf `options timeout:`, else c-ares' default).
    std::chrono::milliseconds timeout{0};
    /// How many times each server is tried; zero: the system's setting (`attempts:`, else
    /// c-ares' default).
    int tries = 0;
};
static_assert(std::is_trivially_destructible_v<ResolverOptions>, "options structs must be trivially destructible (g++ 12)");

/// Replaces the resolver settings of `loop` (each loop has its own resolver, created on
/// first use with the system's settings). Raises aio::Error ("ValueError: …") for a
/// malformed server list, and RuntimeError while a lookup on this loop is awaited.
/// Thread-safety: loop-affine.
void configure(EventLoop& loop, const ResolverOptions& options);
/// `configure(get_running_loop(), options)`.
void configure(const ResolverOptions& options);

}  // namespace dns

}  // namespace aio
