// DatagramEndpoint: a UDP (or Unix datagram) socket you await on, the awaitable form of
// asyncio's loop.create_datagram_endpoint (as the asyncio-dgram package spells it).
#pragma once

#include <sys/socket.h>

#include <any>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/net/addresses.hpp"

namespace aio {

class Socket;

namespace detail {
struct DatagramState;
}  // namespace detail

/// The largest datagram a receive takes unless told otherwise: every UDP payload over
/// IPv4 or IPv6 without jumbograms fits.
inline constexpr std::size_t kDefaultMaxDatagram = 64 * 1024;

/// Options of `create_datagram_endpoint()` and `open_datagram()` (the keyword arguments
/// of asyncio's `loop.create_datagram_endpoint`).
struct DatagramOptions {
    /// AF_UNSPEC: the family of the addresses; AF_INET or AF_INET6 to pick one when a name
    /// resolves to both, or for an endpoint with neither address (asyncio's `family=`).
    int family = AF_UNSPEC;
    /// SO_REUSEPORT before binding: several sockets may bind the same address and port.
    bool reuse_port = false;
    /// SO_BROADCAST: datagrams may go to broadcast addresses. As in asyncio, a remote
    /// address is then not connect()ed: `send()` sends to it, and receives take datagrams
    /// from any sender.
    bool allow_broadcast = false;
    /// The largest datagram `recvfrom()`/`recv()` accept; a longer one raises OSError
    /// (EMSGSIZE) naming both sizes. At least 1.
    std::size_t max_datagram = kDefaultMaxDatagram;
};
static_assert(std::is_trivially_destructible_v<DatagramOptions>, "options structs must be trivially destructible (g++ 12)");

/// One received datagram and its sender (what asyncio's `datagram_received(data, addr)`
/// gets). `auto [data, sender] = co_await endpoint.recvfrom();`
struct Datagram {
    std::string data;
    SocketAddress sender;
};

/// A datagram socket with awaitable receive and send (asyncio's DatagramTransport plus a
/// receive queue, as asyncio-dgram's DatagramStream). Move-only; destroying it closes it.
///
/// An endpoint is "connected" when it was made with a remote address: it then exchanges
/// datagrams with that peer only, `send()`/`recv()` need no address, and an ICMP
/// port-unreachable from the peer raises ConnectionRefusedError from the next `recv()` or
/// `send()` (asyncio reports it to `error_received`). Errors of one datagram leave the
/// endpoint usable. Several tasks may receive (or send) at once; they are served in
/// arrival order. After `close()` every operation raises RuntimeError, and a task waiting
/// in one is woken and raises it.
/// Thread-safety: loop-affine (bound to the loop of its first operation).
class DatagramEndpoint {
public:
    DatagramEndpoint() noexcept = default;
    /// Takes over a datagram socket that is already set up (asyncio's `sock=`): bound,
    /// connected or neither. Raises ValueError if it is not SOCK_DGRAM, or if
    /// `max_datagram` is 0.
    explicit DatagramEndpoint(Socket sock, DatagramOptions options = {});
    DatagramEndpoint(DatagramEndpoint&& o) noexcept = default;
    DatagramEndpoint& operator=(DatagramEndpoint&& o) noexcept;
    ~DatagramEndpoint();

    /// Waits for one datagram and returns it with its sender. A datagram longer than
    /// `max_datagram` raises OSError (EMSGSIZE) and is dropped (the kernel has already cut
    /// it); the next call receives the next one. A zero-length datagram is returned as an
    /// empty string (UDP has no end of stream).
    /// Cancellation: Cancel-safe: if cancelled, no datagram is consumed.
    /// Thread-safety: loop-affine.
    [[nodiscard]] Coro<Datagram> recvfrom();
    /// As `recvfrom()`, without the sender (for connected endpoints, where it is always
    /// the peer).
    /// Cancellation: Cancel-safe: if cancelled, no datagram is consumed.
    /// Thread-safety: loop-affine.
    [[nodiscard]] Coro<std::string> recv();
    /// Receives one datagram straight into `buf` and returns its size and sender; a
    /// datagram longer than `buf` raises OSError (EMSGSIZE) and is dropped. `buf` must
    /// stay valid until the await completes.
    /// Cancellation: Cancel-safe: if cancelled, no datagram is consumed.
    /// Thread-safety: loop-affine.
    [[nodiscard]] Coro<std::pair<std::size_t, SocketAddress>> recvfrom_into(std::span<std::byte> buf);
    /// Sends `data` as one datagram to `addr` (transport.sendto(data, addr)). Waits only
    /// while the socket's send buffer is full. On a connected endpoint `addr` must be the
    /// peer (ValueError otherwise, as asyncio). A datagram too large for the protocol
    /// raises OSError (EMSGSIZE). `data` must stay valid until the await completes.
    /// Cancellation: Cancel-safe: if cancelled, the datagram has not been sent.
    /// Thread-safety: loop-affine.
    [[nodiscard]] Coro<> sendto(std::string_view data, const SocketAddress& addr);
    /// Sends `data` as one datagram to the remote address (transport.sendto(data)).
    /// Raises OSError (EDESTADDRREQ) on an endpoint made without a remote address.
    /// Cancellation: Cancel-safe: if cancelled, the datagram has not been sent.
    /// Thread-safety: loop-affine.
    [[nodiscard]] Coro<> send(std::string_view data);

    /// The local address (get_extra_info("sockname")); the last one known after close().
    [[nodiscard]] SocketAddress sockname() const;
    /// The remote address the endpoint was made with, if any (get_extra_info("peername")).
    [[nodiscard]] std::optional<SocketAddress> peername() const;
    /// "sockname", "peername" (SocketAddress, empty if none) or "socket" (the fd, int,
    /// while open); empty otherwise.
    [[nodiscard]] std::any get_extra_info(std::string_view name) const;
    /// The largest datagram a receive accepts.
    [[nodiscard]] std::size_t max_datagram() const;
    /// Closes the socket at once (nothing is buffered) and wakes every waiting task.
    /// Idempotent.
    void close() noexcept;
    /// close() was called (or the endpoint is empty).
    [[nodiscard]] bool is_closing() const noexcept;
    [[nodiscard]] explicit operator bool() const noexcept { return s_ != nullptr; }

    explicit DatagramEndpoint(std::shared_ptr<detail::DatagramState> state) noexcept;

private:
    // Shared with the coroutines in flight, so a task woken by close() or by the
    // destructor still finds the state it waited on.
    std::shared_ptr<detail::DatagramState> s_;
};

/// Creates a datagram endpoint from addresses (asyncio's
/// `create_datagram_endpoint(local_addr=…, remote_addr=…)` with resolved addresses,
/// including Unix-domain paths). `local_addr` is bound (a stale Unix socket file there is
/// replaced, as asyncio does); `remote_addr` is connected. Both given: their families must
/// match (ValueError). Neither: `options.family` must be AF_INET or AF_INET6 (ValueError)
/// and the socket binds on first send.
/// Cancellation: Cancel-safe: if cancelled, no socket is left open.
/// Thread-safety: loop-affine.
[[nodiscard]] Coro<DatagramEndpoint> create_datagram_endpoint(std::optional<SocketAddress> local_addr,
                                                              std::optional<SocketAddress> remote_addr,
                                                              DatagramOptions options = {});
/// Binds a datagram endpoint to `local_host`:`local_port`: a server, or a client that
/// sends with `sendto()` (asyncio's `local_addr=(host, port)`; asyncio-dgram's `bind`).
/// `local_host` is a numeric address or a name (resolved with SOCK_DGRAM, AI_PASSIVE);
/// empty means every interface ("0.0.0.0", or "::" with `options.family = AF_INET6`).
/// Port 0 picks a free port (see `sockname()`).
/// Cancellation: Cancel-safe: if cancelled, no socket is left open.
/// Thread-safety: loop-affine.
[[nodiscard]] Coro<DatagramEndpoint> create_datagram_endpoint(std::string_view local_host, std::uint16_t local_port,
                                                              DatagramOptions options = {});
/// Both addresses by name (asyncio's `local_addr=(…), remote_addr=(…)`): the endpoint is
/// bound to the local address of the same family as the remote one; empty `local_host`
/// is that family's wildcard. Each family both resolve to is tried in turn; if all fail,
/// the first error is raised.
/// Cancellation: Cancel-safe: if cancelled, no socket is left open.
/// Thread-safety: loop-affine.
[[nodiscard]] Coro<DatagramEndpoint> create_datagram_endpoint(std::string_view local_host, std::uint16_t local_port,
                                                              std::string_view remote_host, std::uint16_t remote_port,
                                                              DatagramOptions options = {});
/// A connected endpoint to `remote_host`:`remote_port` (asyncio's
/// `create_datagram_endpoint(remote_addr=(host, port))`; asyncio-dgram's `connect`).
/// The host is resolved with `aio::getaddrinfo(…, SOCK_DGRAM)`; each address is tried in
/// turn and the first error is raised if none works.
/// Cancellation: Cancel-safe: if cancelled, no socket is left open.
/// Thread-safety: loop-affine.
[[nodiscard]] Coro<DatagramEndpoint> open_datagram(std::string_view remote_host, std::uint16_t remote_port,
                                                   DatagramOptions options = {});

}  // namespace aio
