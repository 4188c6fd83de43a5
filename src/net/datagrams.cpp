// DatagramEndpoint and create_datagram_endpoint / open_datagram (asyncio's
// loop.create_datagram_endpoint, awaitable as in asyncio-dgram).
//
// The socket is registered with the loop once, edge-triggered, with cached readiness
// (detail/io.hpp). Receiving and sending each take a FIFO lock first, so several tasks may
// wait on one endpoint (IoRegistration holds a single waiter per direction), and then loop
// "wait for readiness, one syscall, clear on EAGAIN". Between a successful syscall and the
// co_return there is no suspension, so a cancelled receive never consumes a datagram and a
// cancelled send never sends one.
//
// Endpoint state:
//
//   open ──close() / destructor──► closed
//     │                              │ every waiter is woken (IoRegistration::close) and
//     │                              ▼ raises RuntimeError; later calls raise it too
//     └─ registration opened lazily on the first operation, with the running loop
#include "aio/net/datagrams.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <vector>

#include "aio/detail/io.hpp"
#include "aio/exceptions.hpp"
#include "aio/locks.hpp"
#include "aio/loop.hpp"
#include "aio/net/dns.hpp"
#include "aio/net/sockets.hpp"
#include "net/resolve.hpp"

namespace aio {
namespace detail {

struct DatagramState {
    DatagramState(Socket s, std::optional<SocketAddress> p, bool conn, std::size_t max)
        : sock(std::move(s)), peer(p), connected(conn), max_datagram(max) {}

    // Declared before `io`: the registration must be gone before the fd is closed.
    Socket sock;
    IoRegistration io;
    Lock read_lock;
    Lock write_lock;
    std::optional<SocketAddress> peer;
    bool connected;  // connect()ed to `peer` (not so with allow_broadcast)
    bool closed = false;
    std::size_t max_datagram;
    std::unique_ptr<std::byte[]> rbuf;  // recvfrom()/recv() land here, then are copied out
    SocketAddress last_sockname;

    void check_open(const char* what) const {
        if (closed) throw RuntimeError(std::string("RuntimeError: ") + what + " on a closed DatagramEndpoint");
    }

    /// The loop registration, opened with the running loop on first use.
    IoRegistration& reg(const char* what) {
        check_open(what);
        if (io.closed()) {
            throw RuntimeError(std::string("RuntimeError: ") + what +
                               ": the event loop the DatagramEndpoint was used with is closed");
        }
        if (!io.registered()) {
            // A fresh datagram socket can be written at once; reading waits for an edge.
            io.open(get_running_loop(), sock.fd(), false, true);
        } else if (io.loop() != tl_running_loop) {
            throw RuntimeError(std::string("RuntimeError: ") + what +
                               ": the DatagramEndpoint is bound to a different event loop");
        }
        return io;
    }

    std::string describe() const {
        if (connected && peer) return "endpoint connected to " + peer->to_string();
        return "endpoint " + last_sockname.to_string();
    }

    void refresh_sockname() noexcept {
        SocketAddress a;
        socklen_t len = SocketAddress::capacity();
        if (sock && ::getsockname(sock.fd(), a.data(), &len) == 0) {
            a.set_size(len);
            last_sockname = a;
        }
    }

    void close() noexcept {
        if (closed) return;
        closed = true;
        refresh_sockname();
        io.close();  // wakes the waiting receiver and sender; they see `closed`
        sock.close();
    }
};

namespace {

using Dir = IoRegistration::Dir;

Coro<std::pair<std::size_t, SocketAddress>> receive(std::shared_ptr<DatagramState> st, std::span<std::byte> buf,
                                                    const char* what) {
    st->check_open(what);
    auto held = co_await st->read_lock.scoped();
    IoRegistration& io = st->reg(what);
    for (;;) {
        co_await io.wait(Dir::kRead, what);
        st->check_open(what);
        SocketAddress from;
        socklen_t len = SocketAddress::capacity();
        // MSG_TRUNC: the result is the datagram's real length even when `buf` is shorter.
        const ssize_t n = ::recvfrom(st->sock.fd(), buf.data(), buf.size(), MSG_TRUNC, from.data(), &len);
        if (n >= 0) {
            from.set_size(len);
            const auto size = static_cast<std::size_t>(n);
            if (size > buf.size()) {
                throw OSError(EMSGSIZE, std::string(what) + ": a datagram of " + std::to_string(size) + " bytes from " +
                                            from.to_string() + " exceeds the limit of " +
                                            std::to_string(buf.size()) + " bytes and was dropped");
            }
            co_return std::pair<std::size_t, SocketAddress>(size, from);
        }
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            io.clear(Dir::kRead);
        } else if (err != EINTR) {
            // ECONNREFUSED here is the ICMP port-unreachable of a connected endpoint's peer.
            st->refresh_sockname();
            raise_os_error(err, std::string(what) + " on " + st->describe());
        }
    }
}

Coro<> transmit(std::shared_ptr<DatagramState> st, std::string_view data, std::optional<SocketAddress> to,
                const char* what) {
    st->check_open(what);
    auto held = co_await st->write_lock.scoped();
    IoRegistration& io = st->reg(what);
    for (;;) {
        co_await io.wait(Dir::kWrite, what);
        st->check_open(what);
        const ssize_t n = to ? ::sendto(st->sock.fd(), data.data(), data.size(), MSG_NOSIGNAL, to->data(), to->size())
                             : ::send(st->sock.fd(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n >= 0) co_return;  // a datagram is sent whole or not at all
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            io.clear(Dir::kWrite);
        } else if (err != EINTR) {
            std::string where = to && !st->connected ? " to " + to->to_string() : " on " + st->describe();
            raise_os_error(err, std::string(what) + where);
        }
    }
}

Coro<Datagram> receive_datagram(std::shared_ptr<DatagramState> st, const char* what) {
    if (!st->rbuf) st->rbuf = std::make_unique_for_overwrite<std::byte[]>(st->max_datagram);
    const std::span<std::byte> buf(st->rbuf.get(), st->max_datagram);
    auto [n, from] = co_await receive(st, buf, what);
    // No suspension since the receive: no other task has used the buffer meanwhile.
    Datagram out;
    out.data.assign(reinterpret_cast<const char*>(buf.data()), n);
    out.sender = from;
    co_return out;
}

Coro<std::string> receive_data(std::shared_ptr<DatagramState> st) {
    Datagram d = co_await receive_datagram(std::move(st), "recv()");
    co_return std::move(d.data);
}

void check_options(const DatagramOptions& o) {
    if (o.max_datagram == 0) throw ValueError("ValueError: DatagramOptions.max_datagram must be at least 1");
    if (o.family != AF_UNSPEC && o.family != AF_INET && o.family != AF_INET6 && o.family != AF_UNIX)
        throw ValueError("ValueError: DatagramOptions.family must be AF_UNSPEC, AF_INET, AF_INET6 or AF_UNIX, not " +
                         std::to_string(o.family));
}

const char* family_name(int family) {
    switch (family) {
        case AF_INET: return "AF_INET";
        case AF_INET6: return "AF_INET6";
        case AF_UNIX: return "AF_UNIX";
        default: return "AF_UNSPEC";
    }
}

void remove_stale_unix_socket(const SocketAddress& addr) {
    const std::string path = addr.host();
    if (path.empty() || path.front() == '\0' || path.front() == '@') return;  // abstract namespace
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
}

/// One socket: options, bind, connect. Synchronous (connect() on a datagram socket only
/// records the peer).
DatagramEndpoint make_endpoint(const std::optional<SocketAddress>& local, const std::optional<SocketAddress>& remote,
                               int family, const DatagramOptions& o) {
    Socket sock(family, SOCK_DGRAM);
    if (family == AF_INET || family == AF_INET6) {
        if (o.reuse_port) sock.set_option(SOL_SOCKET, SO_REUSEPORT, 1);
        if (o.allow_broadcast) sock.set_option(SOL_SOCKET, SO_BROADCAST, 1);
    }
    if (local) {
        if (family == AF_UNIX) remove_stale_unix_socket(*local);
        sock.bind(*local);
    }
    std::optional<SocketAddress> peer;
    bool connected = false;
    if (remote) {
        if (o.allow_broadcast) {
            peer = *remote;  // as asyncio: sent to with sendto(), never connect()ed
        } else {
            int rc;
            do {
                rc = ::connect(sock.fd(), remote->data(), remote->size());
            } while (rc < 0 && errno == EINTR);
            if (rc < 0) raise_os_error(errno, "connect to " + remote->to_string());
            peer = sock.peername();
            connected = true;
        }
    }
    auto st = std::make_shared<DatagramState>(std::move(sock), peer, connected, o.max_datagram);
    st->refresh_sockname();
    return DatagramEndpoint(std::move(st));
}

struct Candidate {
    std::optional<SocketAddress> local;
    std::optional<SocketAddress> remote;
    int family;
};

/// Tries each candidate in turn; raises the first error if none works (asyncio does).
DatagramEndpoint first_working(const std::vector<Candidate>& candidates, const DatagramOptions& o) {
    std::exception_ptr first;
    for (const Candidate& c : candidates) {
        try {
            return make_endpoint(c.local, c.remote, c.family, o);
        } catch (const OSError&) {
            if (!first) first = std::current_exception();
        }
    }
    if (first) std::rethrow_exception(first);
    throw ValueError("ValueError: can not get address information");
}

SocketAddress wildcard(int family, std::uint16_t port) {
    return *SocketAddress::parse(family == AF_INET6 ? "::" : "0.0.0.0", port);
}

Coro<std::vector<SocketAddress>> resolve(std::string host, std::uint16_t port, int family, bool passive) {
    AddrInfoOptions hints;
    hints.family = family;
    hints.socktype = SOCK_DGRAM;
    hints.flags = passive ? AI_PASSIVE : 0;
    return resolve_addresses(std::move(host), port, hints);
}

}  // namespace
}  // namespace detail

// ---- DatagramEndpoint ----

namespace {
detail::DatagramState& need(const std::shared_ptr<detail::DatagramState>& s, const char* what) {
    if (!s) throw InvalidStateError(std::string("InvalidStateError: ") + what + " on an empty (moved-from) DatagramEndpoint");
    return *s;
}
}  // namespace

DatagramEndpoint::DatagramEndpoint(std::shared_ptr<detail::DatagramState> state) noexcept : s_(std::move(state)) {}

DatagramEndpoint::DatagramEndpoint(Socket sock, DatagramOptions options) {
    detail::check_options(options);
    if (!sock) throw ValueError("ValueError: DatagramEndpoint needs an open socket");
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(sock.fd(), SOL_SOCKET, SO_TYPE, &type, &len) < 0) raise_os_error(errno, "getsockopt(SO_TYPE)");
    if (type != SOCK_DGRAM)
        throw ValueError("ValueError: A datagram socket was expected, got a socket of type " + std::to_string(type));
    // Drop any registration the socket has (sock_* use) so the endpoint can make its own.
    Socket own = Socket::adopt(sock.release());
    if (options.allow_broadcast) own.set_option(SOL_SOCKET, SO_BROADCAST, 1);
    std::optional<SocketAddress> peer;
    SocketAddress p;
    socklen_t plen = SocketAddress::capacity();
    if (::getpeername(own.fd(), p.data(), &plen) == 0) {
        p.set_size(plen);
        peer = p;
    }
    const bool connected = peer.has_value();
    s_ = std::make_shared<detail::DatagramState>(std::move(own), peer, connected, options.max_datagram);
    s_->refresh_sockname();
}

DatagramEndpoint& DatagramEndpoint::operator=(DatagramEndpoint&& o) noexcept {
    if (this != &o) {
        if (s_) s_->close();
        s_ = std::move(o.s_);
    }
    return *this;
}

DatagramEndpoint::~DatagramEndpoint() {
    if (s_) s_->close();
}

Coro<Datagram> DatagramEndpoint::recvfrom() {
    need(s_, "recvfrom()");
    return detail::receive_datagram(s_, "recvfrom()");
}

Coro<std::string> DatagramEndpoint::recv() {
    need(s_, "recv()");
    return detail::receive_data(s_);
}

Coro<std::pair<std::size_t, SocketAddress>> DatagramEndpoint::recvfrom_into(std::span<std::byte> buf) {
    need(s_, "recvfrom_into()");
    return detail::receive(s_, buf, "recvfrom_into()");
}

Coro<> DatagramEndpoint::sendto(std::string_view data, const SocketAddress& addr) {
    detail::DatagramState& st = need(s_, "sendto()");
    if (st.peer && !(addr == *st.peer))
        throw ValueError("ValueError: Invalid address: must be None or " + st.peer->to_string() + ", not " +
                         addr.to_string());
    if (st.connected) return detail::transmit(s_, data, std::nullopt, "sendto()");
    return detail::transmit(s_, data, addr, "sendto()");
}

Coro<> DatagramEndpoint::send(std::string_view data) {
    detail::DatagramState& st = need(s_, "send()");
    if (!st.peer)
        throw OSError(EDESTADDRREQ, "send() on a datagram endpoint made without a remote address; use sendto(data, addr)");
    if (st.connected) return detail::transmit(s_, data, std::nullopt, "send()");
    return detail::transmit(s_, data, st.peer, "send()");
}

SocketAddress DatagramEndpoint::sockname() const {
    detail::DatagramState& st = need(s_, "sockname()");
    if (!st.closed) st.refresh_sockname();  // an unbound socket gets its port on first send
    return st.last_sockname;
}

std::optional<SocketAddress> DatagramEndpoint::peername() const { return need(s_, "peername()").peer; }

std::any DatagramEndpoint::get_extra_info(std::string_view name) const {
    if (!s_) return {};
    if (name == "sockname") return sockname();
    if (name == "peername") return s_->peer ? std::any(*s_->peer) : std::any();
    if (name == "socket") return s_->closed ? std::any() : std::any(s_->sock.fd());
    return {};
}

std::size_t DatagramEndpoint::max_datagram() const { return need(s_, "max_datagram()").max_datagram; }

void DatagramEndpoint::close() noexcept {
    if (s_) s_->close();
}

bool DatagramEndpoint::is_closing() const noexcept { return !s_ || s_->closed; }

// ---- creating endpoints ----

Coro<DatagramEndpoint> create_datagram_endpoint(std::optional<SocketAddress> local_addr,
                                                std::optional<SocketAddress> remote_addr, DatagramOptions options) {
    detail::check_options(options);
    for (const auto* a : {&local_addr, &remote_addr}) {
        if (*a && (*a)->family() == AF_UNSPEC)
            throw ValueError(std::string("ValueError: ") + (a == &local_addr ? "local_addr" : "remote_addr") +
                             " is an empty SocketAddress");
    }
    int family = options.family;
    if (local_addr && remote_addr && local_addr->family() != remote_addr->family())
        throw ValueError("ValueError: local_addr " + local_addr->to_string() + " and remote_addr " +
                         remote_addr->to_string() + " have different address families");
    const std::optional<SocketAddress>& given = local_addr ? local_addr : remote_addr;
    if (given) {
        if (family != AF_UNSPEC && family != given->family())
            throw ValueError(std::string("ValueError: DatagramOptions.family is ") + detail::family_name(family) +
                             " but the address " + given->to_string() + " is " +
                             detail::family_name(given->family()));
        family = given->family();
    } else if (family != AF_INET && family != AF_INET6) {
        throw ValueError(
            "ValueError: unexpected address family: without local_addr or remote_addr, DatagramOptions.family must be "
            "AF_INET or AF_INET6");
    }
    co_return detail::make_endpoint(local_addr, remote_addr, family, options);
}

Coro<DatagramEndpoint> create_datagram_endpoint(std::string_view local_host, std::uint16_t local_port,
                                                DatagramOptions options) {
    std::string host(local_host);  // copied before the first suspension
    detail::check_options(options);
    if (options.family == AF_UNIX) throw ValueError("ValueError: a Unix datagram endpoint takes a SocketAddress::unix_path");
    std::vector<SocketAddress> locals;
    if (host.empty()) {
        locals.push_back(detail::wildcard(options.family, local_port));
    } else {
        locals = co_await detail::resolve(host, local_port, options.family, true);
    }
    std::vector<detail::Candidate> candidates;
    for (const SocketAddress& l : locals) candidates.push_back({l, std::nullopt, l.family()});
    co_return detail::first_working(candidates, options);
}

Coro<DatagramEndpoint> create_datagram_endpoint(std::string_view local_host, std::uint16_t local_port,
                                                std::string_view remote_host, std::uint16_t remote_port,
                                                DatagramOptions options) {
    std::string lhost(local_host);
    std::string rhost(remote_host);
    detail::check_options(options);
    if (options.family == AF_UNIX) throw ValueError("ValueError: a Unix datagram endpoint takes a SocketAddress::unix_path");
    std::vector<SocketAddress> remotes = co_await detail::resolve(rhost, remote_port, options.family, false);
    std::vector<SocketAddress> locals;
    if (!lhost.empty()) locals = co_await detail::resolve(lhost, local_port, options.family, true);
    std::vector<detail::Candidate> candidates;
    for (const SocketAddress& r : remotes) {
        if (lhost.empty()) {
            candidates.push_back({detail::wildcard(r.family(), local_port), r, r.family()});
            continue;
        }
        for (const SocketAddress& l : locals) {
            if (l.family() == r.family()) {
                candidates.push_back({l, r, r.family()});
                break;
            }
        }
    }
    if (candidates.empty())
        throw ValueError("ValueError: can not get address information: " + lhost + " and " + rhost +
                         " have no address family in common");
    co_return detail::first_working(candidates, options);
}

Coro<DatagramEndpoint> open_datagram(std::string_view remote_host, std::uint16_t remote_port, DatagramOptions options) {
    std::string host(remote_host);
    detail::check_options(options);
    if (options.family == AF_UNIX) throw ValueError("ValueError: a Unix datagram endpoint takes a SocketAddress::unix_path");
    std::vector<SocketAddress> remotes = co_await detail::resolve(host, remote_port, options.family, false);
    std::vector<detail::Candidate> candidates;
    for (const SocketAddress& r : remotes) candidates.push_back({std::nullopt, r, r.family()});
    co_return detail::first_working(candidates, options);
}

}  // namespace aio
