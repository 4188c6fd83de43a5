#include "aio/http/dns_cache.hpp"

#include <algorithm>

#include "aio/loop.hpp"
#include "aio/net/dns.hpp"

namespace aio::http {

Coro<std::vector<SocketAddress>> DnsCache::resolve(std::string_view host, std::uint16_t port) {
    std::string name(host);
    if (SocketAddress::parse(name, port)) co_return std::vector<SocketAddress>{*SocketAddress::parse(name, port)};
    const std::string key = name + ":" + std::to_string(port);
    for (;;) {
        auto it = entries_.find(key);
        if (it == entries_.end()) break;
        if (it->second.resolving) {
            // Someone is asking already: wait for the answer, then look again (it may
            // have failed, leaving nothing cached).
            std::shared_ptr<Event> done = it->second.resolving;
            co_await done->wait();
            continue;
        }
        if (get_running_loop().time() < it->second.expires) co_return it->second.addresses;
        break;
    }
    auto done = std::make_shared<Event>();
    entries_[key].resolving = done;
    struct Finish {
        DnsCache* cache;
        const std::string& key;
        std::shared_ptr<Event>& done;
        bool ok = false;
        ~Finish() {
            auto it = cache->entries_.find(key);
            if (it != cache->entries_.end() && it->second.resolving == done) {
                if (ok) {
                    it->second.resolving.reset();
                } else {
                    cache->entries_.erase(it);  // failures and cancellations are not cached
                }
            }
            done->set();
        }
    } finish{this, key, done};
    std::vector<AddrInfo> infos = co_await getaddrinfo(name, port);
    std::vector<SocketAddress> addresses;
    for (const AddrInfo& info : infos) {
        if (std::find(addresses.begin(), addresses.end(), info.address) == addresses.end()) {
            addresses.push_back(info.address);
        }
    }
    Entry& entry = entries_[key];
    entry.addresses = addresses;
    entry.expires = get_running_loop().time() + ttl_;
    finish.ok = true;
    co_return addresses;
}

void DnsCache::clear(std::string_view host) {
    if (host.empty()) {
        // Lookups in flight finish and are then dropped by their Finish (they no longer
        // find their entry).
        entries_.clear();
        return;
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
        const std::string& key = it->first;
        const auto colon = key.rfind(':');
        if (std::string_view(key).substr(0, colon) == host) {
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace aio::http
