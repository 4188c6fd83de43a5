#include "aio/net/addresses.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

#include "aio/exceptions.hpp"

namespace aio {

SocketAddress::SocketAddress() noexcept : storage_{}, len_(0) { storage_.ss_family = AF_UNSPEC; }

SocketAddress::SocketAddress(const sockaddr* addr, socklen_t len) noexcept : storage_{}, len_(0) {
    if (len > sizeof(storage_)) len = sizeof(storage_);
    std::memcpy(&storage_, addr, len);
    len_ = len;
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view host, std::uint16_t port) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty() || host.size() > 64) return std::nullopt;
    std::string text(host);
    SocketAddress a;
    sockaddr_in v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(port);
        return SocketAddress(reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
    }
    sockaddr_in6 v6{};
    std::string scope;
    if (auto pct = text.find('%'); pct != std::string::npos) {
        scope = text.substr(pct + 1);
        text.resize(pct);
    }
    if (::inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) != 1) return std::nullopt;
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    if (!scope.empty()) {
        unsigned idx = ::if_nametoindex(scope.c_str());
        if (idx == 0) {
            char* end = nullptr;
            unsigned long n = std::strtoul(scope.c_str(), &end, 10);
            if (*end != '\0') return std::nullopt;
            idx = static_cast<unsigned>(n);
        }
        v6.sin6_scope_id = idx;
    }
    return SocketAddress(reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
}

SocketAddress SocketAddress::unix_path(std::string_view path) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (path.empty()) throw ValueError("ValueError: empty Unix socket path");
    if (path.size() >= sizeof(un.sun_path))
        throw ValueError("ValueError: Unix socket path is " + std::to_string(path.size()) + " bytes; at most " +
                    std::to_string(sizeof(un.sun_path) - 1) + " fit: " + std::string(path));
    std::memcpy(un.sun_path, path.data(), path.size());
    const bool abstract = path.front() == '\0' || path.front() == '@';
    if (abstract) un.sun_path[0] = '\0';
    // Abstract names are exactly their bytes; filesystem paths include the terminator.
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
    return SocketAddress(reinterpret_cast<const sockaddr*>(&un), len);
}

std::string SocketAddress::host() const {
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
    switch (family()) {
        case AF_INET: {
            const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage_);
            ::inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
            return buf;
        }
        case AF_INET6: {
            const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
            ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
            std::string s = buf;
            if (v6->sin6_scope_id != 0) {
                char name[IF_NAMESIZE] = {};
                s += '%';
                s += ::if_indextoname(v6->sin6_scope_id, name) ? std::string(name) : std::to_string(v6->sin6_scope_id);
            }
            return s;
        }
        case AF_UNIX: {
            const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
            const std::size_t n = len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
            if (n == 0) return {};
            if (un->sun_path[0] == '\0') {
                std::string name(1, '@');
                name.append(un->sun_path + 1, n - 1);
                return name;
            }
            return std::string(un->sun_path, ::strnlen(un->sun_path, n));
        }
        default: return {};
    }
}

std::uint16_t SocketAddress::port() const noexcept {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
}

std::string SocketAddress::to_string() const {
    switch (family()) {
        case AF_INET: return host() + ":" + std::to_string(port());
        case AF_INET6: {
            std::string s(1, '[');  // append, not "[" + …: g++ 12 -O3 warns falsely (-Wrestrict)
            s.append(host()).append("]:").append(std::to_string(port()));
            return s;
        }
        case AF_UNIX: return host();
        default: return "<no address>";
    }
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
    return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

}  // namespace aio
