// open_connection: resolve, then connect with Happy Eyeballs (RFC 8305).
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <optional>
#include <vector>

#include "aio/exceptions.hpp"
#include "aio/net/dns.hpp"
#include "aio/net/sockets.hpp"
#include "aio/net/streams.hpp"
#include "aio/task.hpp"
#include "aio/tasks.hpp"
#include "net/resolve.hpp"
#include "net/transport.hpp"

namespace aio {
namespace {

Coro<Socket> connect_one(SocketAddress addr) {
    Socket sock(addr.family(), SOCK_STREAM);
    if (addr.is_ip()) sock.set_option(IPPROTO_TCP, TCP_NODELAY, 1);
    co_await sock_connect(sock, addr);
    co_return sock;
}

/// RFC 8305 §4: alternate address families, starting with the first one returned.
std::vector<SocketAddress> interleave(const std::vector<SocketAddress>& addrs) {
    std::vector<SocketAddress> first, other;
    for (const SocketAddress& a : addrs) (a.family() == addrs.front().family() ? first : other).push_back(a);
    std::vector<SocketAddress> out;
    for (std::size_t i = 0; i < first.size() || i < other.size(); ++i) {
        if (i < first.size()) out.push_back(first[i]);
        if (i < other.size()) out.push_back(other[i]);
    }
    return out;
}

std::string describe_error(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "unknown error";
    }
}

/// Every attempt failed: one error re-raised as is, several summarised in one OSError
/// (asyncio's "Multiple exceptions: ...").
[[noreturn]] void raise_all_failed(const std::vector<std::exception_ptr>& errors) {
    if (errors.size() == 1) std::rethrow_exception(errors.front());
    std::string msg = "Multiple exceptions: ";
    for (std::size_t i = 0; i < errors.size(); ++i) {
        if (i) msg += "; ";
        msg += describe_error(errors[i]);
    }
    int code = 0;
    try {
        std::rethrow_exception(errors.front());
    } catch (const OSError& e) {
        code = e.code();
    } catch (...) {
    }
    throw OSError(code, msg);
}

/// Staggered connection attempts: start one, start the next after `delay` or as soon as
/// the previous fails; the first to connect wins and the others are cancelled.
Coro<Socket> connect_staggered(std::vector<SocketAddress> addrs, std::optional<std::chrono::milliseconds> delay) {
    std::vector<std::exception_ptr> errors;
    if (!delay || addrs.size() == 1) {
        for (const SocketAddress& a : addrs) {
            try {
                co_return co_await connect_one(a);
            } catch (const CancelledError&) {
                throw;
            } catch (...) {
                errors.push_back(std::current_exception());
            }
        }
        raise_all_failed(errors);
    }
    std::vector<Task<Socket>> running;
    std::size_t next = 0;
    // Whatever happens (a winner, an error, our cancellation), losers are cancelled; their
    // sockets close when their frames finish.
    struct CancelLosers {
        std::vector<Task<Socket>>* running;
        ~CancelLosers() {
            for (auto& t : *running) t.cancel();
        }
    } guard{&running};
    for (;;) {
        if (next < addrs.size()) running.push_back(create_task(connect_one(addrs[next++])));
        if (running.empty()) break;
        WaitOptions opts;
        opts.return_when = FIRST_COMPLETED;
        if (next < addrs.size()) opts.timeout = std::chrono::duration_cast<Clock::duration>(*delay);
        auto result = co_await wait(running, opts);
        std::vector<Task<Socket>> still;
        std::optional<Socket> won;
        for (auto& t : result.done) {
            if (!won && !t.cancelled() && !t.exception()) {
                won.emplace(std::move(t).result());
            } else if (!t.cancelled() && t.exception()) {
                errors.push_back(t.exception());
            }
        }
        if (won) co_return std::move(*won);
        running = std::move(result.pending);
    }
    raise_all_failed(errors);
}

}  // namespace

Coro<Streams> open_connection(std::string_view host, std::uint16_t port, ConnectOptions options) {
    // Copied before the first suspension: the caller's views may not outlive it.
    std::string host_copy(host);
    std::optional<SSLContext> ssl;
    if (options.ssl) ssl = *options.ssl;
    std::string tls_host(options.server_hostname.empty() ? host : options.server_hostname);
    std::vector<SocketAddress> addrs(options.addresses.begin(), options.addresses.end());
    if (addrs.empty()) {
        AddrInfoOptions hints;
        hints.socktype = SOCK_STREAM;
        addrs = co_await detail::resolve_addresses(host_copy, port, hints);
    }
    Socket sock = co_await connect_staggered(interleave(addrs), options.happy_eyeballs_delay);
    const SocketAddress peer = sock.peername();
    auto* t = new detail::StreamTransport(get_running_loop(), sock.release(), options.limit, peer);
    t->acquire();
    t->acquire();
    Streams streams{StreamReader(t), StreamWriter(t)};
    if (ssl) co_await t->start_tls(*ssl, std::move(tls_host), options.ssl_handshake_timeout);
    co_return streams;
}

Streams open_connection(Socket sock, ConnectOptions options) {
    if (!sock) throw ValueError("ValueError: open_connection() of a closed Socket");
    SocketAddress peer;
    try {
        peer = sock.peername();
    } catch (const OSError&) {
        // Not connected (yet): errors will name no address.
    }
    auto* t = new detail::StreamTransport(get_running_loop(), sock.release(), options.limit, peer);
    t->acquire();
    t->acquire();
    return Streams{StreamReader(t), StreamWriter(t)};
}

namespace {
detail::StreamTransport* pipe_transport(int fd, std::size_t limit) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        const int err = errno;
        ::close(fd);
        raise_os_error(err, "fcntl(O_NONBLOCK) on pipe fd " + std::to_string(fd));
    }
    auto* t = new detail::StreamTransport(get_running_loop(), fd, limit, SocketAddress());
    t->acquire();
    return t;
}
}  // namespace

StreamReader connect_read_pipe(int fd, std::size_t limit) { return StreamReader(pipe_transport(fd, limit)); }

StreamWriter connect_write_pipe(int fd) { return StreamWriter(pipe_transport(fd, kDefaultStreamLimit)); }

Coro<Streams> open_unix_connection(std::string_view path, ConnectOptions options) {
    SocketAddress addr = SocketAddress::unix_path(path);
    std::optional<SSLContext> ssl;
    if (options.ssl) ssl = *options.ssl;
    std::string tls_host(options.server_hostname);
    Socket sock(AF_UNIX, SOCK_STREAM);
    co_await sock_connect(sock, addr);
    auto* t = new detail::StreamTransport(get_running_loop(), sock.release(), options.limit, addr);
    t->acquire();
    t->acquire();
    Streams streams{StreamReader(t), StreamWriter(t)};
    if (ssl) co_await t->start_tls(*ssl, std::move(tls_host), options.ssl_handshake_timeout);
    co_return streams;
}

}  // namespace aio
