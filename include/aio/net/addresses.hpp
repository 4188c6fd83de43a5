// SocketAddress: an IPv4, IPv6 or Unix-domain address (asyncio's (host, port) tuples and
// socket paths).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aio {

/// An IPv4, IPv6 or Unix-domain socket address, held by value (a `sockaddr_storage`).
///
/// `to_string()` gives "127.0.0.1:8080", "[::1]:8080" or the socket path; that is also how
/// errors and `get_extra_info("peername")` show an address.
class SocketAddress {
public:
    /// An empty address (family AF_UNSPEC).
    SocketAddress() noexcept;
    /// Copies a `sockaddr` returned by the system (accept, getpeername, getaddrinfo).
    SocketAddress(const sockaddr* addr, socklen_t len) noexcept;

    /// Parses a numeric IPv4 or IPv6 host ("10.0.0.1", "::1", "fe80::1%eth0"); nullopt if
    /// `host` is not a numeric address (then it is a name to resolve).
    [[nodiscard]] static std::optional<SocketAddress> parse(std::string_view host, std::uint16_t port);
    /// A Unix-domain address; a leading '\0' or '@' selects Linux's abstract namespace.
    /// Throws ValueError if the path is empty or does not fit in `sun_path`.
    [[nodiscard]] static SocketAddress unix_path(std::string_view path);

    [[nodiscard]] int family() const noexcept { return storage_.ss_family; }
    [[nodiscard]] bool is_ip() const noexcept { return family() == AF_INET || family() == AF_INET6; }
    /// The numeric host ("127.0.0.1", "::1"), or the path of a Unix-domain address.
    [[nodiscard]] std::string host() const;
    /// The port (0 for Unix-domain addresses).
    [[nodiscard]] std::uint16_t port() const noexcept;
    /// "host:port", "[v6host]:port", or the path ("@name" for an abstract one).
    [[nodiscard]] std::string to_string() const;

    [[nodiscard]] const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    [[nodiscard]] sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    [[nodiscard]] socklen_t size() const noexcept { return len_; }
    /// For the system to fill in (accept, getsockname): sets the length it reported.
    void set_size(socklen_t len) noexcept { len_ = len; }
    [[nodiscard]] static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }

    friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

private:
    sockaddr_storage storage_;
    socklen_t len_;
};

}  // namespace aio
