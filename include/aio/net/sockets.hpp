// Socket and the low-level socket coroutines (asyncio's loop.sock_recv, sock_sendall,
// sock_connect, sock_accept).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "aio/coro.hpp"
#include "aio/detail/io.hpp"
#include "aio/net/addresses.hpp"

namespace aio {

/// An owned, non-blocking, close-on-exec socket (Python's `socket.socket` as used with
/// `loop.sock_*`). Move-only; closes its fd when destroyed.
///
/// The fd is registered with the running loop on its first asynchronous operation.
/// Thread-safety: loop-affine once registered.
class Socket {
public:
    Socket() noexcept;
    /// `socket(family, type, protocol)`, non-blocking and close-on-exec.
    Socket(int family, int type, int protocol = 0);
    /// Takes ownership of `fd` and makes it non-blocking.
    [[nodiscard]] static Socket adopt(int fd);
    Socket(Socket&& other) noexcept;
    Socket& operator=(Socket&& other) noexcept;
    ~Socket();

    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }

    void bind(const SocketAddress& addr);
    void listen(int backlog = 128);
    /// setsockopt with an int value.
    void set_option(int level, int name, int value);
    [[nodiscard]] SocketAddress sockname() const;
    [[nodiscard]] SocketAddress peername() const;
    /// shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR.
    void shutdown(int how);
    /// Deregisters from the loop and closes the fd; waiting tasks see the socket closed.
    void close() noexcept;
    /// Deregisters and gives up ownership of the fd.
    [[nodiscard]] int release() noexcept;

    /// The loop registration (created on first use with the running loop).
    detail::IoRegistration& io();

private:
    explicit Socket(int fd) noexcept : fd_(fd) {}
    int fd_ = -1;
    // On the heap: epoll keeps its address while the Socket moves.
    std::unique_ptr<detail::IoRegistration> io_;
};

/// Reads up to `buf.size()` bytes into `buf`; returns how many, 0 at end of stream
/// (loop.sock_recv_into).
/// Cancellation: Cancel-safe: if cancelled, no byte has been read.
[[nodiscard]] Coro<std::size_t> sock_recv_into(Socket& sock, std::span<std::byte> buf);
/// Reads up to `n` bytes; empty at end of stream (loop.sock_recv).
/// Cancellation: Cancel-safe: if cancelled, no byte has been read.
[[nodiscard]] Coro<std::string> sock_recv(Socket& sock, std::size_t n);
/// Sends all of `data` (loop.sock_sendall).
/// Cancellation: Not cancel-safe: if cancelled, an unknown prefix of `data` has been sent.
[[nodiscard]] Coro<> sock_sendall(Socket& sock, std::string_view data);
/// Connects `sock` to `addr` (loop.sock_connect); raises ConnectionRefusedError etc.
/// naming the address.
/// Cancellation: Cancel-safe: if cancelled, the socket is left unconnected (close it).
[[nodiscard]] Coro<> sock_connect(Socket& sock, const SocketAddress& addr);
/// Accepts one connection on a listening socket (loop.sock_accept).
/// Cancellation: Cancel-safe: if cancelled, no connection has been accepted.
[[nodiscard]] Coro<std::pair<Socket, SocketAddress>> sock_accept(Socket& sock);

}  // namespace aio
