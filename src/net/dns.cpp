// getaddrinfo/getnameinfo on a per-loop c-ares channel.
//
// Each loop has one Resolver (an EventLoop service), whose c-ares channel is created on
// the first lookup. c-ares tells us about every socket it opens or closes through its
// sock-state callback; the loop watches those fds with add_reader/add_writer and calls
// ares_process_fd when one is ready. c-ares' own deadlines (retransmission, timeout) are
// real time, read with ares_timeout after every ares_process_fd and every new query:
//  - on a real loop they drive a loop timer (call_later): the loop's clock is the same
//    monotonic clock c-ares reads;
//  - on a virtual-time loop (the test loop) a loop timer would fire at once, because the
//    virtual clock jumps to the next timer when the loop is idle, and c-ares would find
//    nothing due. There a timerfd, watched with add_reader, stands in for the timer, and
//    each awaited lookup counts as outside work (begin_external) so the virtual clock
//    does not jump while an answer is awaited: a lookup takes its real time there too.
//
// A lookup and its waiter:
//
//   co_await ──► parked ──c-ares callback──► woken: status and result kept in the awaiter
//                   │                         (the hosts file may answer synchronously,
//                   │                          inside ares_getaddrinfo: woken at once)
//                   └─ cancel(), or the frame destroyed at loop close: the awaiter detaches
//                      from its Query record and raises CancelledError. c-ares has no way
//                      to drop one query, so it runs on until it is answered, times out, or
//                      the channel is destroyed (ARES_EDESTRUCTION at loop close); its
//                      callback then finds no waiter and only frees the record.
//
// The Query record is on the heap because c-ares keeps its address (the callback argument)
// as long as the query lives, which may be longer than the awaiter.
#include "aio/net/dns.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <coroutine>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

#include "aio/detail/task_base.hpp"
#include "aio/exceptions.hpp"
#include "aio/loop.hpp"
#include "net/resolve.hpp"

namespace aio {

namespace {

// EAI_NODATA and EAI_ADDRFAMILY are glibc extensions (always there with _GNU_SOURCE,
// which libstdc++ defines).
#ifdef EAI_NODATA
constexpr int kEaiNoData = EAI_NODATA;
#else
constexpr int kEaiNoData = EAI_NONAME;
#endif
#ifdef EAI_ADDRFAMILY
constexpr int kEaiAddrFamily = EAI_ADDRFAMILY;
#else
constexpr int kEaiAddrFamily = EAI_FAMILY;
#endif

void init_library() {
    // ares_library_init is not thread-safe itself; once per process.
    static std::once_flag once;
    static int status = ARES_SUCCESS;
    std::call_once(once, [] { status = ::ares_library_init(ARES_LIB_INIT_ALL); });
    if (status != ARES_SUCCESS)
        throw RuntimeError(std::string("RuntimeError: c-ares could not be initialised: ") + ::ares_strerror(status));
}

/// Raises the GaiError for a c-ares status, with the EAI_* code the C library would give.
[[noreturn]] void raise_gai(int status, const std::string& host) {
    switch (status) {
        case ARES_ENOTFOUND:
        case ARES_EBADNAME: throw GaiError(EAI_NONAME, ::ares_strerror(status), host);
        case ARES_ENODATA: throw GaiError(kEaiNoData, ::ares_strerror(status), host);
        case ARES_ETIMEOUT: throw GaiError(EAI_AGAIN, "DNS query timed out", host);
        case ARES_ECONNREFUSED:
        case ARES_ESERVFAIL: throw GaiError(EAI_AGAIN, ::ares_strerror(status), host);
        case ARES_ENOMEM: throw GaiError(EAI_MEMORY, ::ares_strerror(status), host);
        case ARES_EBADFAMILY: throw GaiError(EAI_FAMILY, ::ares_strerror(status), host);
        case ARES_EBADFLAGS: throw GaiError(EAI_BADFLAGS, ::ares_strerror(status), host);
        default: throw GaiError(EAI_FAIL, ::ares_strerror(status), host);
    }
}

/// The host as error messages show it: quoted if empty, shortened if very long.
std::string shown(std::string_view host) {
    if (host.empty()) return "\"\"";
    if (host.size() > 64) return std::string(host.substr(0, 60)) + "...";
    return std::string(host);
}

class QueryWait;

/// What c-ares holds as a query's callback argument.
struct Query {
    QueryWait* waiter = nullptr;  // null once the awaiter has gone (cancelled, destroyed)
};

/// A loop's c-ares channel and the loop watches that drive it.
class Resolver final : public EventLoop::Service {
public:
    static Resolver& of(EventLoop& loop) {
        Resolver& r = loop.service<Resolver>();
        r.loop_ = &loop;
        return r;
    }

    Resolver() = default;
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;
    ~Resolver() override {
        // Loop close, after the leftover tasks: their awaiters have detached, so the
        // ARES_EDESTRUCTION callbacks only free records.
        destroy_channel();
        timer_.cancel();
        if (timerfd_ >= 0) {
            if (loop_) loop_->remove_reader(timerfd_);
            ::close(timerfd_);
        }
    }

    /// The channel, created with the current settings on first use.
    ares_channel channel() {
        if (channel_) return channel_;
        init_library();
        if (loop_->is_virtual_time() && timerfd_ < 0) {
            timerfd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
            if (timerfd_ < 0) raise_os_error(errno, "timerfd_create() for the DNS resolver");
            loop_->add_reader(timerfd_, [this] { on_timerfd(); });
        }
        ares_options opts{};
        int mask = ARES_OPT_SOCK_STATE_CB;
        opts.sock_state_cb = &Resolver::on_sock_state;
        opts.sock_state_cb_data = this;
        if (timeout_ms_ > 0) {
            opts.timeout = timeout_ms_;
            mask |= ARES_OPT_TIMEOUTMS;
        }
        if (tries_ > 0) {
            opts.tries = tries_;
            mask |= ARES_OPT_TRIES;
        }
        ares_channel ch = nullptr;
        int status = ::ares_init_options(&ch, &opts, mask);
        if (status != ARES_SUCCESS)
            throw RuntimeError(std::string("RuntimeError: the DNS resolver could not start: ") + ::ares_strerror(status));
        if (!servers_.empty()) {
            status = ::ares_set_servers_ports_csv(ch, servers_.c_str());
            if (status != ARES_SUCCESS) {
                ::ares_destroy(ch);
                throw Error("ValueError: invalid DNS server list \"" + servers_ + "\": " + ::ares_strerror(status));
            }
        }
        channel_ = ch;
        return ch;
    }

    void configure(const dns::ResolverOptions& options) {
        if (options.timeout.count() < 0 || options.timeout.count() > INT_MAX)
            throw Error("ValueError: DNS timeout out of range: " + std::to_string(options.timeout.count()) + " ms");
        if (options.tries < 0) throw Error("ValueError: DNS tries must not be negative: " + std::to_string(options.tries));
        if (waiters_ > 0)
            throw RuntimeError("RuntimeError: cannot reconfigure the DNS resolver while lookups are awaited on its loop");
        std::string servers(options.servers);
        if (servers.find('\0') != std::string::npos) throw Error("ValueError: DNS server list contains a NUL byte");
        // Queries still running for cancelled lookups end with ARES_EDESTRUCTION here.
        destroy_channel();
        std::swap(servers_, servers);
        const int old_timeout = std::exchange(timeout_ms_, static_cast<int>(options.timeout.count()));
        const int old_tries = std::exchange(tries_, options.tries);
        try {
            channel();  // validates the settings now rather than at the first lookup
        } catch (...) {
            servers_ = std::move(servers);
            timeout_ms_ = old_timeout;
            tries_ = old_tries;
            throw;
        }
    }

    /// Re-arms the timer from c-ares' next deadline (none: disarmed).
    void rearm() noexcept {
        timeval tv{};
        const timeval* next = channel_ ? ::ares_timeout(channel_, nullptr, &tv) : nullptr;
        if (timerfd_ >= 0) {
            itimerspec spec{};
            if (next) {
                spec.it_value.tv_sec = next->tv_sec;
                spec.it_value.tv_nsec = next->tv_usec * 1000;
                if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;  // 0 disarms
            }
            ::timerfd_settime(timerfd_, 0, &spec, nullptr);
            return;
        }
        timer_.cancel();
        if (next) {
            timer_ = loop_->call_later(std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec),
                                       [this] { process(ARES_SOCKET_BAD, ARES_SOCKET_BAD); });
        }
    }

    /// An awaiter started or stopped waiting for a query.
    void waiter_added() noexcept {
        ++waiters_;
        loop_->begin_external();
    }
    void waiter_removed() noexcept {
        --waiters_;
        loop_->end_external();
    }

private:
    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept {
        auto* self = static_cast<Resolver*>(data);
        EventLoop& loop = *self->loop_;
        try {
            if (readable) {
                loop.add_reader(fd, [self, fd] { self->process(fd, ARES_SOCKET_BAD); });
            } else {
                loop.remove_reader(fd);
            }
            if (writable) {
                loop.add_writer(fd, [self, fd] { self->process(ARES_SOCKET_BAD, fd); });
            } else {
                loop.remove_writer(fd);
            }
        } catch (...) {
            // The query goes on without this socket's events and ends at its timeout.
            loop.call_exception_handler({"DNS resolver could not watch its socket", std::current_exception(), {}, {}});
        }
        auto it = std::find(self->fds_.begin(), self->fds_.end(), fd);
        if (readable || writable) {
            if (it == self->fds_.end()) self->fds_.push_back(fd);
        } else if (it != self->fds_.end()) {
            self->fds_.erase(it);
        }
    }

    /// A watched socket is ready, or a deadline passed (both fds ARES_SOCKET_BAD).
    void process(ares_socket_t rfd, ares_socket_t wfd) noexcept {
        if (!channel_) return;
        // Readiness is delivered on a later loop step (call_soon): by then c-ares may have
        // closed the socket. A stale wake-up for a number it reused is harmless (the read
        // finds nothing).
        auto known = [this](ares_socket_t fd) { return std::find(fds_.begin(), fds_.end(), fd) != fds_.end(); };
        if (rfd != ARES_SOCKET_BAD && !known(rfd)) return;
        if (wfd != ARES_SOCKET_BAD && !known(wfd)) return;
        ::ares_process_fd(channel_, rfd, wfd);
        rearm();
    }

    void on_timerfd() noexcept {
        std::uint64_t expirations;
        [[maybe_unused]] auto n = ::read(timerfd_, &expirations, sizeof expirations);
        process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }

    void destroy_channel() noexcept {
        if (!channel_) return;
        ::ares_destroy(std::exchange(channel_, nullptr));
        rearm();
    }

    EventLoop* loop_ = nullptr;
    ares_channel channel_ = nullptr;
    std::string servers_;
    int timeout_ms_ = 0;
    int tries_ = 0;
    int waiters_ = 0;
    std::vector<ares_socket_t> fds_;  // sockets c-ares has open (a handful)
    TimerHandle timer_;               // real-time loops
    int timerfd_ = -1;                // virtual-time loops
};

/// A task waiting for one c-ares query (the leaf awaiter of getaddrinfo/getnameinfo).
class QueryWait : public detail::LeafWait {
public:
    QueryWait(const QueryWait&) = delete;
    QueryWait& operator=(const QueryWait&) = delete;

    bool await_ready() const noexcept { return false; }

protected:
    QueryWait(Resolver& resolver, ares_channel channel) noexcept : channel_(channel), resolver_(&resolver) {}
    ~QueryWait() { detach(); }

    /// The body of await_suspend: parks the task, then starts the query with
    /// `start(record)`; c-ares may answer before it returns (then the task is woken).
    template <class Start>
    bool launch(std::coroutine_handle<> h, const char* kind, Start start) {
        auto record = std::make_unique<Query>();
        if (!park(h, &QueryWait::cancel_hook, kind)) return false;
        query_ = record.release();
        query_->waiter = this;
        resolver_->waiter_added();
        start(query_);
        resolver_->rearm();
        return true;
    }

    /// In a c-ares callback: frees the record; returns its waiter, if it still has one.
    static QueryWait* finished(void* arg) noexcept {
        std::unique_ptr<Query> record(static_cast<Query*>(arg));
        QueryWait* w = record->waiter;
        if (w) w->detach();
        return w;
    }

    /// In await_resume, before the result: raises CancelledError if one is pending.
    void check_cancel() {
        if (cancel_pending()) task->throw_cancelled();
    }

    ares_channel channel_;
    int status_ = ARES_SUCCESS;

private:
    void detach() noexcept {
        if (!query_) return;
        query_->waiter = nullptr;
        query_ = nullptr;
        resolver_->waiter_removed();
    }
    static bool cancel_hook(detail::Suspension* s) noexcept {
        auto* self = static_cast<QueryWait*>(s);
        self->detach();
        return self->cancelled_by_request();
    }

    Resolver* resolver_;
    Query* query_ = nullptr;
};

struct AresAddrInfoFree {
    void operator()(ares_addrinfo* p) const noexcept { ::ares_freeaddrinfo(p); }
};
using AresAddrInfo = std::unique_ptr<ares_addrinfo, AresAddrInfoFree>;

class AddrInfoWait final : public QueryWait {
public:
    AddrInfoWait(Resolver& resolver, const std::string& host, const ares_addrinfo_hints& hints)
        : QueryWait(resolver, resolver.channel()), host_(host), hints_(hints) {}

    bool await_suspend(std::coroutine_handle<> h) {
        return launch(h, "getaddrinfo", [this](Query* q) {
            ::ares_getaddrinfo(channel_, host_.c_str(), nullptr, &hints_, &AddrInfoWait::done, q);
        });
    }
    AresAddrInfo await_resume() {
        check_cancel();
        if (status_ != ARES_SUCCESS) raise_gai(status_, host_);
        return std::move(result_);
    }

private:
    static void done(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) noexcept {
        AresAddrInfo result(res);
        auto* self = static_cast<AddrInfoWait*>(finished(arg));
        if (!self) return;
        self->status_ = status;
        self->result_ = std::move(result);
        self->wake();
    }

    const std::string& host_;  // in the awaiting frame
    ares_addrinfo_hints hints_;
    AresAddrInfo result_;
};

class NameInfoWait final : public QueryWait {
public:
    NameInfoWait(Resolver& resolver, const SocketAddress& addr, int ares_flags)
        : QueryWait(resolver, resolver.channel()), addr_(addr), flags_(ares_flags) {}

    bool await_suspend(std::coroutine_handle<> h) {
        return launch(h, "getnameinfo", [this](Query* q) {
            ::ares_getnameinfo(channel_, addr_.data(), static_cast<ares_socklen_t>(addr_.size()), flags_,
                               &NameInfoWait::done, q);
        });
    }
    std::pair<std::string, std::string> await_resume() {
        check_cancel();
        if (status_ != ARES_SUCCESS) raise_gai(status_, addr_.to_string());
        return {std::move(host_), std::move(service_)};
    }

private:
    static void done(void* arg, int status, int /*timeouts*/, char* node, char* service) noexcept {
        auto* self = static_cast<NameInfoWait*>(finished(arg));
        if (!self) return;
        self->status_ = status;
        try {
            if (node) self->host_ = node;
            if (service) self->service_ = service;
        } catch (...) {
            self->status_ = ARES_ENOMEM;
        }
        self->wake();
    }

    const SocketAddress& addr_;  // in the awaiting frame
    int flags_;
    std::string host_;
    std::string service_;
};

// ---- getaddrinfo ----

constexpr int kKnownAiFlags = AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_NUMERICSERV | AI_V4MAPPED | AI_ALL |
                              AI_ADDRCONFIG;

/// Checks what the C library checks before any lookup.
void check_request(std::string_view host, const AddrInfoOptions& options) {
    if (host.empty()) throw GaiError(EAI_NONAME, "Empty host name", shown(host));
    // 253 bytes is the longest name DNS can carry (254 with the root's trailing dot).
    const std::size_t limit = host.back() == '.' ? 254 : 253;
    if (host.size() > limit)
        throw GaiError(EAI_NONAME, "Host name is longer than 253 bytes (" + std::to_string(host.size()) + ")", shown(host));
    if (host.find('\0') != std::string_view::npos) throw GaiError(EAI_NONAME, "Host name contains a NUL byte", shown(host));
    if (options.family != AF_UNSPEC && options.family != AF_INET && options.family != AF_INET6)
        throw GaiError(EAI_FAMILY, "ai_family not supported", shown(host));
    if (options.flags & ~kKnownAiFlags) throw GaiError(EAI_BADFLAGS, "Bad value for ai_flags", shown(host));
}

/// The socket types one address expands to, as the C library does for socktype 0.
std::vector<int> socktypes_for(const AddrInfoOptions& options) {
    if (options.socktype != 0) return {options.socktype};
    if (options.protocol == IPPROTO_TCP) return {SOCK_STREAM};
    if (options.protocol == IPPROTO_UDP) return {SOCK_DGRAM};
    return {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW};
}

int protocol_for(int socktype, const AddrInfoOptions& options) {
    if (options.protocol != 0) return options.protocol;
    if (socktype == SOCK_STREAM) return IPPROTO_TCP;
    if (socktype == SOCK_DGRAM) return IPPROTO_UDP;
    return 0;
}

/// One result per address and socket type; `canonname` on the first result only.
std::vector<AddrInfo> expand(const std::vector<SocketAddress>& addresses, const AddrInfoOptions& options,
                             std::string canonname) {
    const std::vector<int> types = socktypes_for(options);
    std::vector<AddrInfo> out;
    out.reserve(addresses.size() * types.size());
    for (const SocketAddress& a : addresses) {
        for (int type : types) {
            out.push_back(AddrInfo{a.family(), type, protocol_for(type, options), a, std::string()});
        }
    }
    if (!out.empty() && (options.flags & AI_CANONNAME)) out.front().canonname = std::move(canonname);
    return out;
}

/// A numeric host, parsed without a query; nullopt for a name.
std::optional<std::vector<AddrInfo>> numeric_results(std::string_view host, std::uint16_t port,
                                                     const AddrInfoOptions& options) {
    std::optional<SocketAddress> addr = SocketAddress::parse(host, port);
    if (!addr) {
        if (options.flags & AI_NUMERICHOST) throw GaiError(EAI_NONAME, "Name or service not known", shown(host));
        return std::nullopt;
    }
    if (options.family == AF_INET && addr->family() == AF_INET6)
        throw GaiError(kEaiAddrFamily, "Address family for hostname not supported", shown(host));
    if (options.family == AF_INET6 && addr->family() == AF_INET) {
        if (!(options.flags & AI_V4MAPPED))
            throw GaiError(kEaiAddrFamily, "Address family for hostname not supported", shown(host));
        // ::ffff:a.b.c.d, as the C library gives for AI_V4MAPPED.
        sockaddr_in6 v6{};
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(port);
        v6.sin6_addr.s6_addr[10] = 0xff;
        v6.sin6_addr.s6_addr[11] = 0xff;
        std::memcpy(&v6.sin6_addr.s6_addr[12], &reinterpret_cast<const sockaddr_in*>(addr->data())->sin_addr, 4);
        addr = SocketAddress(reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
    }
    std::string_view canon = host;
    if (canon.size() >= 2 && canon.front() == '[' && canon.back() == ']') canon = canon.substr(1, canon.size() - 2);
    return expand({*addr}, options, std::string(canon));
}

ares_addrinfo_hints to_hints(const AddrInfoOptions& options) {
    ares_addrinfo_hints hints{};
    hints.ai_family = options.family;
    hints.ai_socktype = options.socktype;
    hints.ai_protocol = options.protocol;
    const int f = options.flags;
    hints.ai_flags = ((f & AI_PASSIVE) ? ARES_AI_PASSIVE : 0) | ((f & AI_CANONNAME) ? ARES_AI_CANONNAME : 0) |
                     ((f & AI_V4MAPPED) ? ARES_AI_V4MAPPED : 0) | ((f & AI_ALL) ? ARES_AI_ALL : 0) |
                     ((f & AI_ADDRCONFIG) ? ARES_AI_ADDRCONFIG : 0) | ARES_AI_NUMERICSERV;
    return hints;
}

/// c-ares' answer as results, in its order, with `port` set.
std::vector<AddrInfo> convert(const ares_addrinfo* res, std::uint16_t port, const AddrInfoOptions& options,
                              const std::string& host) {
    std::vector<SocketAddress> addresses;
    for (const ares_addrinfo_node* n = res ? res->nodes : nullptr; n; n = n->ai_next) {
        sockaddr_storage ss{};
        if (!n->ai_addr || n->ai_addrlen > sizeof ss) continue;
        std::memcpy(&ss, n->ai_addr, n->ai_addrlen);
        if (ss.ss_family == AF_INET) {
            reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
        } else if (ss.ss_family == AF_INET6) {
            reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
        } else {
            continue;
        }
        if (options.family != AF_UNSPEC && ss.ss_family != options.family) continue;
        SocketAddress a(reinterpret_cast<const sockaddr*>(&ss), n->ai_addrlen);
        if (std::find(addresses.begin(), addresses.end(), a) == addresses.end()) addresses.push_back(a);
    }
    if (addresses.empty()) raise_gai(ARES_ENODATA, host);
    // The canonical name: the end of the CNAME chain, else the name itself.
    std::string canonname = host;
    if (res && res->name) canonname = res->name;
    for (const ares_addrinfo_cname* c = res ? res->cnames : nullptr; c; c = c->next) {
        if (c->name) canonname = c->name;
    }
    return expand(addresses, options, std::move(canonname));
}

Coro<std::vector<AddrInfo>> getaddrinfo_impl(std::string host, std::uint16_t port, AddrInfoOptions options) {
    check_request(host, options);
    if (auto found = numeric_results(host, port, options)) co_return std::move(*found);
    Resolver& resolver = Resolver::of(get_running_loop());
    AddrInfoWait wait(resolver, host, to_hints(options));
    AresAddrInfo res = co_await wait;
    co_return convert(res.get(), port, options, host);
}

// ---- getnameinfo ----

constexpr int kKnownNiFlags = NI_NUMERICHOST | NI_NUMERICSERV | NI_NOFQDN | NI_NAMEREQD | NI_DGRAM;

Coro<std::pair<std::string, std::string>> getnameinfo_impl(SocketAddress addr, int flags) {
    if (!addr.is_ip()) throw GaiError(EAI_FAMILY, "Address family not supported", addr.to_string());
    if (flags & ~kKnownNiFlags) throw GaiError(EAI_BADFLAGS, "Bad value for flags", addr.to_string());
    if (flags & NI_NUMERICHOST) {
        // No query: the C library formats the address, and a service name comes from
        // /etc/services, a local file.
        char host[NI_MAXHOST];
        char service[NI_MAXSERV];
        const int rc = ::getnameinfo(addr.data(), addr.size(), host, sizeof host, service, sizeof service, flags);
        if (rc != 0) throw GaiError(rc, ::gai_strerror(rc), addr.to_string());
        co_return std::pair<std::string, std::string>(host, service);
    }
    int ares_flags = ARES_NI_LOOKUPHOST | ARES_NI_LOOKUPSERVICE;
    if (flags & NI_NUMERICSERV) ares_flags |= ARES_NI_NUMERICSERV;
    if (flags & NI_NOFQDN) ares_flags |= ARES_NI_NOFQDN;
    if (flags & NI_NAMEREQD) ares_flags |= ARES_NI_NAMEREQD;
    if (flags & NI_DGRAM) ares_flags |= ARES_NI_DGRAM;
    Resolver& resolver = Resolver::of(get_running_loop());
    NameInfoWait wait(resolver, addr, ares_flags);
    co_return co_await wait;
}

}  // namespace

Coro<std::vector<AddrInfo>> getaddrinfo(std::string_view host, std::uint16_t port, AddrInfoOptions options) {
    // A plain function: the host is copied now, so the lazy coroutine never reads a view
    // the caller has let go of.
    return getaddrinfo_impl(std::string(host), port, options);
}

Coro<std::pair<std::string, std::string>> getnameinfo(const SocketAddress& addr, int flags) {
    return getnameinfo_impl(addr, flags);
}

namespace dns {

void configure(EventLoop& loop, const ResolverOptions& options) { Resolver::of(loop).configure(options); }

void configure(const ResolverOptions& options) { configure(get_running_loop(), options); }

}  // namespace dns

Coro<std::vector<SocketAddress>> detail::resolve_addresses(std::string host, std::uint16_t port, AddrInfoOptions hints) {
    std::vector<AddrInfo> infos = co_await getaddrinfo(host, port, hints);
    std::vector<SocketAddress> out;
    for (const AddrInfo& i : infos) {
        if (std::find(out.begin(), out.end(), i.address) == out.end()) out.push_back(i.address);
    }
    if (out.empty()) throw GaiError(EAI_NONAME, "no address", host);
    co_return out;
}

}  // namespace aio
