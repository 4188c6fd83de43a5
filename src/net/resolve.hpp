// Host name → the socket addresses to connect to or listen on; shared by open_connection,
// start_server and the datagram endpoints (private to src/net).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aio/coro.hpp"
#include "aio/net/addresses.hpp"
#include "aio/net/dns.hpp"

namespace aio::detail {

/// The distinct addresses `host` resolves to with `hints`, in the resolver's order
/// (numeric hosts need no query). Raises GaiError naming the host if there is none.
Coro<std::vector<SocketAddress>> resolve_addresses(std::string host, std::uint16_t port, AddrInfoOptions hints);

}  // namespace aio::detail
