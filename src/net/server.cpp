// start_server / start_unix_server and Server (asyncio.base_events.Server).
//
// One accept task per listening socket; one handler task per connection, tracked so that
// close() can cancel them and wait_closed() can wait for them.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <unordered_map>

#include "aio/exceptions.hpp"
#include "aio/locks.hpp"
#include "aio/net/dns.hpp"
#include "aio/net/sockets.hpp"
#include "aio/net/streams.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "net/resolve.hpp"
#include "net/transport.hpp"

namespace aio {
namespace detail {

struct ServerState : std::enable_shared_from_this<ServerState> {
    ServerState(ClientConnected h, ServerOptions o, EventLoop* l) : handler(std::move(h)), options(o), loop(l) {}

    ClientConnected handler;
    ServerOptions options;
    EventLoop* loop;
    std::vector<Socket> listeners;
    std::vector<SocketAddress> addresses;
    std::unordered_map<std::uint64_t, AnyTask> conns;
    std::uint64_t next_id = 0;
    bool closed = false;
    bool listening = true;  // until stop_listening() or close()
    Event closed_event;  // set by close()
    Event all_done;      // set once closed with no handler left
    std::string unix_path;
    ino_t unix_inode = 0;
    std::optional<SSLContext> ssl;

    void close();
    void stop_listening();
    void forget(std::uint64_t id) {
        conns.erase(id);
        if (closed && conns.empty()) all_done.set();
    }
    void accepted(int fd, const SocketAddress& peer);
};

namespace {

Coro<> run_connection(std::shared_ptr<ServerState> st, std::uint64_t id, StreamReader reader, StreamWriter writer) {
    struct Forget {
        ServerState* st;
        std::uint64_t id;
        ~Forget() { st->forget(id); }
    } forget{st.get(), id};
    std::exception_ptr error;
    if (st->ssl) {
        // The handshake comes first; a client that fails it is dropped. asyncio logs that
        // at debug level only, so it is reported in debug mode only.
        try {
            co_await writer.start_tls(*st->ssl, {}, st->options.ssl_handshake_timeout);
        } catch (const CancelledError&) {
            throw;
        } catch (...) {
            error = std::current_exception();
        }
        if (error) {
            if (st->loop->get_debug()) st->loop->call_exception_handler({"SSL handshake failed", error, {}, {}});
            co_return;
        }
    }
    try {
        co_await st->handler(std::move(reader), std::move(writer));
    } catch (const CancelledError&) {
        throw;
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        // As asyncio logs it; the server goes on serving.
        AnyTask self = current_task();
        st->loop->call_exception_handler(
            {"Unhandled exception in client_connected_cb", error, self ? self.get_name() : std::string(), {}});
    }
}

bool out_of_resources(int err) { return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM; }

Coro<> accept_loop(std::shared_ptr<ServerState> st, std::size_t index) {
    detail::IoRegistration& io = st->listeners[index].io();
    const int fd = st->listeners[index].fd();
    for (;;) {
        co_await io.wait(IoRegistration::kRead, "Server.accept");
        if (!st->listening) co_return;
        // Accept a batch, then let the connections run (one listener cannot starve them).
        for (int i = 0; i < st->options.backlog; ++i) {
            SocketAddress peer;
            socklen_t len = SocketAddress::capacity();
            int c = ::accept4(fd, peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c >= 0) {
                peer.set_size(len);
                st->accepted(c, peer);
                continue;
            }
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) {
                io.clear(IoRegistration::kRead);
                break;
            }
            if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
            if (out_of_resources(err)) {
                // Out of fds: report, pause, then try again; the pending connections wait in
                // the backlog (asyncio pauses accepting for a second).
                st->loop->call_exception_handler({"socket.accept() out of system resource", std::make_exception_ptr(OSError(err, "accept on " + st->addresses[index].to_string())), {}, {}});
                co_await sleep(std::chrono::milliseconds(100));
                if (!st->listening) co_return;
                break;
            }
            raise_os_error(err, "accept on " + st->addresses[index].to_string());
        }
        if (!io.ready(IoRegistration::kRead)) continue;
        co_await sleep(std::chrono::seconds(0));
        if (!st->listening) co_return;
    }
}

}  // namespace

void ServerState::accepted(int fd, const SocketAddress& peer) {
    // asyncio turns Nagle off on every TCP transport.
    if (!addresses.empty() && addresses.front().is_ip()) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    auto* t = new StreamTransport(*loop, fd, options.limit, peer);
    t->acquire();
    t->acquire();
    const std::uint64_t id = next_id++;
    conns.emplace(id, AnyTask(create_task(run_connection(shared_from_this(), id, StreamReader(t), StreamWriter(t)))));
}

void ServerState::stop_listening() {
    if (!listening) return;
    listening = false;
    // Closing wakes each accept task, which sees `listening` false and ends.
    for (Socket& s : listeners) s.close();
    if (!unix_path.empty()) {
        // Remove our socket file, unless someone else has replaced it meanwhile.
        struct stat st {};
        if (::stat(unix_path.c_str(), &st) == 0 && st.st_ino == unix_inode) ::unlink(unix_path.c_str());
    }
}

void ServerState::close() {
    if (closed) return;
    closed = true;
    stop_listening();
    for (auto& [id, task] : conns) task.cancel();
    closed_event.set();
    if (conns.empty()) all_done.set();
}

}  // namespace detail

namespace {

/// Listens on every socket and starts their accept tasks (asyncio's start_serving).
Server start_serving(std::shared_ptr<detail::ServerState> st) {
    for (std::size_t i = 0; i < st->listeners.size(); ++i) {
        st->listeners[i].listen(st->options.backlog);
        create_task(detail::accept_loop(st, i), "aio.Server.accept " + st->addresses[i].to_string());
    }
    return Server(std::move(st));
}

Socket listen_socket(const SocketAddress& addr, const ServerOptions& options) {
    Socket s(addr.family(), SOCK_STREAM);
    if (addr.is_ip()) {
        if (options.reuse_address) s.set_option(SOL_SOCKET, SO_REUSEADDR, 1);
        if (options.reuse_port) s.set_option(SOL_SOCKET, SO_REUSEPORT, 1);
        // A dual-stack host gets one socket per family, as asyncio does.
        if (addr.family() == AF_INET6) s.set_option(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    }
    s.bind(addr);
    return s;
}

}  // namespace

Coro<Server> start_server(ClientConnected handler, std::string_view host, std::uint16_t port, ServerOptions options) {
    std::string host_copy(host);
    auto st = std::make_shared<detail::ServerState>(std::move(handler), options, &get_running_loop());
    if (options.ssl) st->ssl = *options.ssl;
    std::vector<SocketAddress> addrs;
    if (host_copy.empty()) {
        addrs.push_back(*SocketAddress::parse("0.0.0.0", port));
        addrs.push_back(*SocketAddress::parse("::", port));
    } else {
        AddrInfoOptions hints;
        hints.socktype = SOCK_STREAM;
        hints.flags = AI_PASSIVE;
        addrs = co_await detail::resolve_addresses(host_copy, port, hints);
    }
    // With port 0 the first socket picks a free port and the others (a dual-stack host)
    // take the same one.
    std::uint16_t chosen = port;
    for (const SocketAddress& given : addrs) {
        const SocketAddress a = chosen == port ? given : *SocketAddress::parse(given.host(), chosen);
        try {
            st->listeners.push_back(listen_socket(a, options));
        } catch (const OSError& e) {
            // A host without IPv6 still serves IPv4 when every interface was asked for.
            if (host_copy.empty() && a.family() == AF_INET6 && e.code() == EAFNOSUPPORT) continue;
            throw;
        }
        st->addresses.push_back(st->listeners.back().sockname());
        if (chosen == 0) chosen = st->addresses.back().port();
    }
    co_return start_serving(std::move(st));
}

Coro<Server> start_unix_server(ClientConnected handler, std::string_view path, ServerOptions options) {
    auto st = std::make_shared<detail::ServerState>(std::move(handler), options, &get_running_loop());
    if (options.ssl) st->ssl = *options.ssl;
    SocketAddress addr = SocketAddress::unix_path(path);
    std::string file(path);
    const bool abstract = file.front() == '\0' || file.front() == '@';
    if (!abstract) {
        // A socket file left by a previous run is replaced (asyncio does the same).
        struct stat old {};
        if (::stat(file.c_str(), &old) == 0 && S_ISSOCK(old.st_mode)) ::unlink(file.c_str());
    }
    Socket s(AF_UNIX, SOCK_STREAM);
    s.bind(addr);
    if (!abstract) {
        struct stat mine {};
        if (::stat(file.c_str(), &mine) == 0) {
            st->unix_path = file;
            st->unix_inode = mine.st_ino;
        }
    }
    st->listeners.push_back(std::move(s));
    st->addresses.push_back(addr);
    co_return start_serving(std::move(st));
}

// ---- Server ----

Server::Server(std::shared_ptr<detail::ServerState> state) noexcept : s_(std::move(state)) {}

Server& Server::operator=(Server&& o) noexcept {
    if (this != &o) {
        if (s_) s_->close();
        s_ = std::move(o.s_);
    }
    return *this;
}

Server::~Server() {
    if (s_) s_->close();
}

std::vector<SocketAddress> Server::sockets() const { return s_ ? s_->addresses : std::vector<SocketAddress>{}; }

std::uint16_t Server::port() const {
    if (!s_ || s_->addresses.empty()) throw InvalidStateError("InvalidStateError: the server has no socket");
    return s_->addresses.front().port();
}

bool Server::is_serving() const noexcept { return s_ && s_->listening; }

void Server::close() {
    if (s_) s_->close();
}

void Server::stop_listening() {
    if (s_) s_->stop_listening();
}

Coro<> Server::wait_closed() {
    if (!s_) co_return;
    auto st = s_;
    co_await st->closed_event.wait();
    co_await st->all_done.wait();
}

Coro<> Server::serve_forever() {
    if (!s_) throw InvalidStateError("InvalidStateError: serve_forever() on an empty Server");
    auto st = s_;
    if (st->closed) throw RuntimeError("RuntimeError: server is closed");
    std::exception_ptr cancelled;
    try {
        co_await st->closed_event.wait();
    } catch (const CancelledError&) {
        cancelled = std::current_exception();
    }
    // Cancelled (or closed): close and wait for the handlers, as asyncio's serve_forever.
    st->close();
    co_await st->all_done.wait();
    if (cancelled) std::rethrow_exception(cancelled);
}

std::size_t Server::connection_count() const noexcept { return s_ ? s_->conns.size() : 0; }

}  // namespace aio
