// StreamReader, StreamWriter, open_connection and start_server: asyncio's streams.py.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/net/addresses.hpp"
#include "aio/net/tls.hpp"

namespace aio {

namespace detail {
class StreamTransport;
struct ServerState;
}  // namespace detail

/// The buffer limit of a StreamReader unless told otherwise (asyncio's 2**16).
inline constexpr std::size_t kDefaultStreamLimit = 64 * 1024;

/// The reading half of a connection (asyncio.StreamReader). Move-only; the connection is
/// closed when both halves are gone.
///
/// Reads pull from the socket when the buffer cannot satisfy them, so a reader that is not
/// read from applies TCP back-pressure instead of growing memory. After the peer closes,
/// reads drain the buffer and then report end of stream; after a reset they raise
/// ConnectionResetError. Only one task may wait on a reader at a time.
/// Thread-safety: loop-affine.
class StreamReader {
public:
    StreamReader() noexcept = default;
    StreamReader(StreamReader&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
    StreamReader& operator=(StreamReader o) noexcept {
        std::swap(t_, o.t_);
        return *this;
    }
    ~StreamReader();

    /// Up to `n` bytes, at least one unless the stream ended (then empty). `read()` (n < 0)
    /// reads until end of stream.
    /// Cancellation: Cancel-safe: if cancelled, no byte is consumed.
    [[nodiscard]] Coro<std::string> read(std::ptrdiff_t n = -1);
    /// One line including its "\n"; the last line may lack it; empty at end of stream.
    /// A line longer than the limit raises ValueError and is discarded (asyncio does so).
    /// Cancellation: Cancel-safe: if cancelled, no byte is consumed.
    [[nodiscard]] Coro<std::string> readline();
    /// Data up to and including `separator`. At end of stream without it:
    /// IncompleteReadError holding the rest; beyond the limit: LimitOverrunError, and the
    /// data stays buffered.
    /// Cancellation: Cancel-safe: if cancelled, no byte is consumed.
    [[nodiscard]] Coro<std::string> readuntil(std::string_view separator = "\n");
    /// Exactly `n` bytes, or IncompleteReadError holding what came before end of stream.
    /// Cancellation: Cancel-safe: if cancelled, no byte is consumed.
    [[nodiscard]] Coro<std::string> readexactly(std::size_t n);
    /// Reads straight into `buf` (no intermediate copy when nothing is buffered); returns
    /// the byte count, 0 at end of stream.
    /// Cancellation: Cancel-safe: if cancelled, no byte is consumed.
    [[nodiscard]] Coro<std::size_t> read_into(std::span<std::byte> buf);
    /// The buffer is empty and the peer has closed its side.
    [[nodiscard]] bool at_eof() const noexcept;
    /// Bytes buffered and not yet read.
    [[nodiscard]] std::size_t buffered() const noexcept;
    [[nodiscard]] std::size_t limit() const noexcept;
    [[nodiscard]] explicit operator bool() const noexcept { return t_ != nullptr; }

    explicit StreamReader(detail::StreamTransport* t) noexcept;  // adopts a reference

private:
    detail::StreamTransport* t_ = nullptr;
};

/// The writing half of a connection (asyncio.StreamWriter). Move-only.
///
/// `write()` never blocks: it sends what the socket takes and buffers the rest, which the
/// loop flushes as the socket drains. Call `drain()` after writing: it waits while more
/// than the high-water mark (64 KiB) is buffered, until it is down to the low-water mark
/// (16 KiB), so a peer that does not read cannot make memory grow without bound.
/// Unlike asyncio, writing to a closed or lost connection raises instead of dropping the
/// data silently.
/// Thread-safety: loop-affine.
class StreamWriter {
public:
    StreamWriter() noexcept = default;
    StreamWriter(StreamWriter&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
    StreamWriter& operator=(StreamWriter o) noexcept {
        std::swap(t_, o.t_);
        return *this;
    }
    ~StreamWriter();

    /// Queues `data` (sending at once what the socket accepts). Raises RuntimeError after
    /// close()/write_eof(), and the connection's error once it was lost.
    void write(std::string_view data);
    /// Writes each element of `lines` (any range of string-like values).
    template <class Range>
    void writelines(const Range& lines) {
        for (const auto& line : lines) write(std::string_view(line));
    }
    /// Waits until the buffer is below the low-water mark; raises the connection's error
    /// if it was lost (ConnectionResetError, BrokenPipeError).
    /// Cancellation: Cancel-safe: the data stays buffered and is still sent.
    [[nodiscard]] Coro<> drain();
    /// Sends `count` bytes of the open file `file` starting at `offset`, after what was
    /// written before (asyncio's loop.sendfile(transport, file, offset, count)): zero-copy
    /// sendfile(2) on a plain socket, read-and-write through TLS or to a pipe. Returns the
    /// bytes sent: fewer than `count` when the file ends first. write() during it raises
    /// RuntimeError; so does a second sendfile(). As with sendfile(2), reading the file
    /// may block the loop on a cold disk cache.
    /// Cancellation: Not cancel-safe: part of the file may have been sent; close the
    /// connection.
    [[nodiscard]] Coro<std::size_t> sendfile(int file, std::uint64_t offset, std::size_t count);
    /// Closes the sending side once the buffer is flushed (shutdown(SHUT_WR)). TLS cannot
    /// half-close: RuntimeError there.
    void write_eof();
    [[nodiscard]] bool can_write_eof() const noexcept;
    /// Flushes what is buffered, then closes the connection.
    void close();
    /// Closes at once, discarding buffered data (asyncio's transport.abort()).
    void abort() noexcept;
    [[nodiscard]] bool is_closing() const noexcept;
    /// Waits until the connection is closed (after close(): once the buffer is flushed).
    /// Raises the connection's error if it was lost.
    /// Cancellation: Cancel-safe: closing continues in the background.
    [[nodiscard]] Coro<> wait_closed();
    /// "peername", "sockname" (SocketAddress), "socket" (the fd, int); with TLS also
    /// "ssl_object" (OpenSSL's `SSL*`), "peercert" (PeerCertificate, if the peer sent one),
    /// "cipher", "tls_version" and "alpn_protocol" (std::string). Empty if unknown.
    [[nodiscard]] std::any get_extra_info(std::string_view name) const;
    /// Upgrades the connection to TLS in place (StreamWriter.start_tls): a client context
    /// verifies `server_hostname` (default: none; required with check_hostname), a server
    /// context answers the handshake. Bytes already buffered by the reader are handed to
    /// TLS. Raises SSLError/SSLCertVerificationError, or TimeoutError after
    /// `ssl_handshake_timeout`.
    /// Cancellation: Not cancel-safe: a cancelled handshake leaves the connection unusable;
    /// close it.
    [[nodiscard]] Coro<> start_tls(const SSLContext& context, std::string_view server_hostname = {},
                                   std::chrono::milliseconds ssl_handshake_timeout = std::chrono::seconds(60));
    [[nodiscard]] SocketAddress peername() const;
    [[nodiscard]] SocketAddress sockname() const;
    /// Bytes buffered and not yet sent (transport.get_write_buffer_size()).
    [[nodiscard]] std::size_t buffer_size() const noexcept;
    /// Sets the high-water mark, and the low one (default: high / 4).
    void set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low = std::nullopt);
    [[nodiscard]] explicit operator bool() const noexcept { return t_ != nullptr; }

    explicit StreamWriter(detail::StreamTransport* t) noexcept;  // adopts a reference

private:
    detail::StreamTransport* t_ = nullptr;
};

/// A connection's two halves; `auto [reader, writer] = co_await open_connection(...)`.
struct Streams {
    StreamReader reader;
    StreamWriter writer;
};

/// Options of `open_connection()`.
struct ConnectOptions {
    /// The reader's buffer limit.
    std::size_t limit = kDefaultStreamLimit;
    /// TLS: the client context to use (e.g. `SSLContext::create_default_context()`), or
    /// nullptr for plain TCP. It is copied when the connection starts.
    const SSLContext* ssl = nullptr;
    /// TLS: the name to verify and send (SNI); defaults to `host`.
    std::string_view server_hostname = {};
    /// TLS: the handshake must finish within this (asyncio's ssl_handshake_timeout).
    std::chrono::milliseconds ssl_handshake_timeout = std::chrono::seconds(60);
    /// Happy Eyeballs (RFC 8305): when a name resolves to several addresses, start the
    /// next attempt after this delay if the previous one has not connected; nullopt tries
    /// them one after another. Addresses are interleaved by family.
    std::optional<std::chrono::milliseconds> happy_eyeballs_delay = std::chrono::milliseconds(250);
    /// Addresses `host` is already known to resolve to (a DNS cache's): connect to these
    /// (Happy Eyeballs as above) instead of resolving; `host` still names the connection
    /// for TLS. Copied when the connection starts, so they must stay valid until then.
    std::span<const SocketAddress> addresses = {};
};
static_assert(std::is_trivially_destructible_v<ConnectOptions>, "options structs must be trivially destructible (g++ 12)");

/// Connects to `host`:`port` over TCP (asyncio.open_connection). `host` is a name
/// (resolved asynchronously) or a numeric IPv4/IPv6 address. Errors name the address:
/// ConnectionRefusedError, GaiError, TimeoutError…; when every address fails, the error
/// lists each attempt.
/// Cancellation: Cancel-safe: if cancelled, every attempt is abandoned and its socket
/// closed.
[[nodiscard]] Coro<Streams> open_connection(std::string_view host, std::uint16_t port, ConnectOptions options = {});
/// Connects to the Unix-domain socket at `path` (asyncio.open_unix_connection).
/// Cancellation: Cancel-safe: if cancelled, the socket is closed.
[[nodiscard]] Coro<Streams> open_unix_connection(std::string_view path, ConnectOptions options = {});

class Socket;

/// Streams over a socket that is already connected (asyncio's `open_connection(sock=…)`).
/// Takes ownership of `sock`.
[[nodiscard]] Streams open_connection(Socket sock, ConnectOptions options = {});
/// A StreamReader over the read end of a pipe, or any readable fd, which it takes over
/// and makes non-blocking (loop.connect_read_pipe).
[[nodiscard]] StreamReader connect_read_pipe(int fd, std::size_t limit = kDefaultStreamLimit);
/// A StreamWriter over the write end of a pipe, taken over as above
/// (loop.connect_write_pipe); `write_eof()` closes it.
[[nodiscard]] StreamWriter connect_write_pipe(int fd);

/// What a server calls for each connection: a coroutine that owns both halves.
using ClientConnected = std::function<Coro<>(StreamReader, StreamWriter)>;

/// Options of `start_server()`.
struct ServerOptions {
    int backlog = 100;
    bool reuse_address = true;
    /// SO_REUSEPORT: several processes may listen on the port (the supervisor's model).
    bool reuse_port = false;
    /// Each connection's reader buffer limit.
    std::size_t limit = kDefaultStreamLimit;
    /// TLS: the server context (with its certificate chain loaded), or nullptr. Each
    /// connection's handshake completes before the handler runs; a failed one is dropped
    /// (reported in debug mode).
    const SSLContext* ssl = nullptr;
    std::chrono::milliseconds ssl_handshake_timeout = std::chrono::seconds(60);
};
static_assert(std::is_trivially_destructible_v<ServerOptions>, "options structs must be trivially destructible (g++ 12)");

/// A listening server (asyncio.Server). Move-only; destroying it closes it.
///
/// Each accepted connection runs `handler(reader, writer)` in its own task. An exception
/// escaping a handler is reported to the loop's exception handler and the server goes
/// on. `close()` stops listening and cancels the handlers; `wait_closed()` waits for them.
/// Thread-safety: loop-affine.
class Server {
public:
    Server() noexcept = default;
    Server(Server&&) noexcept = default;
    Server& operator=(Server&&) noexcept;
    ~Server();

    /// The addresses the server listens on (asyncio returns the sockets).
    [[nodiscard]] std::vector<SocketAddress> sockets() const;
    /// The port of the first listening socket (handy with port 0).
    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] bool is_serving() const noexcept;
    /// Stops listening and cancels every connection handler.
    void close();
    /// Stops listening and leaves the connections running (what asyncio 3.13's
    /// Server.close() does); close() later cancels what is left.
    void stop_listening();
    /// Waits until the server is closed and every handler task has finished.
    /// Cancellation: Cancel-safe: the handlers keep finishing in the background.
    [[nodiscard]] Coro<> wait_closed();
    /// Serves until cancelled (or until close()); then closes and waits for the handlers.
    /// Cancellation: Cancel-safe: cancelling it closes the server, as in asyncio.
    [[nodiscard]] Coro<> serve_forever();
    /// Handler tasks running now.
    [[nodiscard]] std::size_t connection_count() const noexcept;

    explicit Server(std::shared_ptr<detail::ServerState> state) noexcept;

private:
    std::shared_ptr<detail::ServerState> s_;
};

/// Listens on `host`:`port` (asyncio.start_server). An empty host listens on every
/// interface (IPv4 and IPv6); a name listens on each address it resolves to; port 0 picks
/// a free port (see `Server::port()`).
/// Cancellation: Cancel-safe: if cancelled, nothing is left listening.
[[nodiscard]] Coro<Server> start_server(ClientConnected handler, std::string_view host, std::uint16_t port,
                                        ServerOptions options = {});
/// Listens on the Unix-domain socket `path` (asyncio.start_unix_server); a stale socket
/// file left at `path` is replaced.
/// Cancellation: Cancel-safe: if cancelled, nothing is left listening.
[[nodiscard]] Coro<Server> start_unix_server(ClientConnected handler, std::string_view path, ServerOptions options = {});

}  // namespace aio
