#include "aio/net/sockets.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "aio/exceptions.hpp"
#include "aio/loop.hpp"

namespace aio {

Socket::Socket() noexcept = default;

Socket::Socket(int family, int type, int protocol)
    : fd_(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol)) {
    if (fd_ < 0) raise_os_error(errno, "socket()");
}

Socket Socket::adopt(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) raise_os_error(errno, "fcntl(F_GETFL)");
    if (!(flags & O_NONBLOCK) && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) raise_os_error(errno, "fcntl(O_NONBLOCK)");
    return Socket(fd);
}

Socket::Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)), io_(std::move(other.io_)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        io_ = std::move(other.io_);
    }
    return *this;
}

Socket::~Socket() { close(); }

void Socket::bind(const SocketAddress& addr) {
    if (::bind(fd_, addr.data(), addr.size()) < 0) raise_os_error(errno, "bind to " + addr.to_string());
}

void Socket::listen(int backlog) {
    if (::listen(fd_, backlog) < 0) raise_os_error(errno, "listen()");
}

void Socket::set_option(int level, int name, int value) {
    if (::setsockopt(fd_, level, name, &value, sizeof value) < 0) raise_os_error(errno, "setsockopt()");
}

SocketAddress Socket::sockname() const {
    SocketAddress a;
    socklen_t len = SocketAddress::capacity();
    if (::getsockname(fd_, a.data(), &len) < 0) raise_os_error(errno, "getsockname()");
    a.set_size(len);
    return a;
}

SocketAddress Socket::peername() const {
    SocketAddress a;
    socklen_t len = SocketAddress::capacity();
    if (::getpeername(fd_, a.data(), &len) < 0) raise_os_error(errno, "getpeername()");
    a.set_size(len);
    return a;
}

void Socket::shutdown(int how) {
    if (::shutdown(fd_, how) < 0 && errno != ENOTCONN) raise_os_error(errno, "shutdown()");
}

void Socket::close() noexcept {
    // The registration object stays until the Socket is destroyed: a task woken by the
    // close still looks at it to learn that the socket is closed.
    if (io_) io_->close();
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

int Socket::release() noexcept {
    if (io_) io_->close();
    return std::exchange(fd_, -1);
}

detail::IoRegistration& Socket::io() {
    if (fd_ < 0) throw RuntimeError("RuntimeError: operation on a closed Socket");
    if (!io_ || !io_->registered()) {
        if (!io_) io_ = std::make_unique<detail::IoRegistration>();
        io_->open(get_running_loop(), fd_);
    } else if (io_->loop() != detail::tl_running_loop) {
        throw RuntimeError("RuntimeError: Socket is registered with a different event loop");
    }
    return *io_;
}

namespace {
using Dir = detail::IoRegistration::Dir;

void check_open(detail::IoRegistration& io, const char* what) {
    if (io.closed()) throw RuntimeError(std::string("RuntimeError: ") + what + " on a closed Socket");
}
}  // namespace

Coro<std::size_t> sock_recv_into(Socket& sock, std::span<std::byte> buf) {
    detail::IoRegistration& io = sock.io();
    for (;;) {
        co_await io.wait(Dir::kRead, "sock_recv");
        check_open(io, "sock_recv()");
        ssize_t n = ::recv(sock.fd(), buf.data(), buf.size(), 0);
        if (n >= 0) {
            if (static_cast<std::size_t>(n) < buf.size()) io.clear(Dir::kRead);
            co_return static_cast<std::size_t>(n);
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            io.clear(Dir::kRead);
        } else if (errno != EINTR) {
            raise_os_error(errno, "recv()");
        }
    }
}

Coro<std::string> sock_recv(Socket& sock, std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = co_await sock_recv_into(sock, std::as_writable_bytes(std::span(out)));
    out.resize(got);
    co_return out;
}

Coro<> sock_sendall(Socket& sock, std::string_view data) {
    detail::IoRegistration& io = sock.io();
    while (!data.empty()) {
        co_await io.wait(Dir::kWrite, "sock_sendall");
        check_open(io, "sock_sendall()");
        ssize_t n = ::send(sock.fd(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            if (static_cast<std::size_t>(n) < data.size()) io.clear(Dir::kWrite);
            data.remove_prefix(static_cast<std::size_t>(n));
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            io.clear(Dir::kWrite);
        } else if (errno != EINTR) {
            raise_os_error(errno, "send()");
        }
    }
}

Coro<> sock_connect(Socket& sock, const SocketAddress& addr) {
    detail::IoRegistration& io = sock.io();
    if (::connect(sock.fd(), addr.data(), addr.size()) == 0) co_return;
    if (errno != EINPROGRESS && errno != EAGAIN) raise_os_error(errno, "connect to " + addr.to_string());
    io.clear(Dir::kWrite);
    co_await io.wait(Dir::kWrite, "sock_connect");
    check_open(io, "sock_connect()");
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(sock.fd(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err != 0) raise_os_error(err, "connect to " + addr.to_string());
}

Coro<std::pair<Socket, SocketAddress>> sock_accept(Socket& sock) {
    detail::IoRegistration& io = sock.io();
    for (;;) {
        co_await io.wait(Dir::kRead, "sock_accept");
        check_open(io, "sock_accept()");
        SocketAddress peer;
        socklen_t len = SocketAddress::capacity();
        int fd = ::accept4(sock.fd(), peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            peer.set_size(len);
            co_return std::pair<Socket, SocketAddress>(Socket::adopt(fd), peer);
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            io.clear(Dir::kRead);
        } else if (errno != EINTR && errno != ECONNABORTED) {
            raise_os_error(errno, "accept()");
        }
    }
}

}  // namespace aio
