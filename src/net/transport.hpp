// The connection under a StreamReader/StreamWriter pair: asyncio's socket transport and
// stream protocol in one object (private to src/net).
//
// Write side states:
//
//   open ──close()──► closing ──buffer flushed──► closed
//     │                  │                          ▲
//     └──abort() / last handle dropped / error──────┘  (buffered data is discarded)
//
// Reading is pull-based: nothing is read until a reader asks, so an unread connection
// leaves its bytes in the kernel and TCP flow control stops the peer. Writing is
// push-based: write() buffers a small write until the end of the loop's batch of steps
// (write coalescing, detail/io.hpp) and sends a large one at once; what does not fit is
// flushed from the poller's EPOLLOUT callback (no task needed), and drain() waits while
// the buffer is above the high-water mark.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "aio/detail/io.hpp"
#include "aio/locks.hpp"
#include "aio/net/addresses.hpp"
#include "aio/net/tls.hpp"

namespace aio::detail {

struct TlsSession;  // tls.cpp

class StreamTransport final : public IoRegistration {
public:
    enum class State : std::uint8_t { open, closing, closed };

    /// Takes ownership of the connected, non-blocking `fd` (a socket or a pipe) and
    /// registers it. `peer` is kept for errors, which must name it even after a reset.
    StreamTransport(EventLoop& loop, int fd, std::size_t limit, const SocketAddress& peer);
    ~StreamTransport() override;

    void acquire() noexcept { ++refs_; }
    /// Dropping the last handle closes the connection (discarding unsent data).
    void release() noexcept;

    // ---- reading ----
    /// Receives into the loop thread's scratch buffer (decrypted, with TLS); returns the
    /// byte count (0 at end of stream). The bytes are valid until the next suspension.
    Coro<std::size_t> recv_some(const char* what) { return tls_ ? tls_recv(what) : recv_raw(scratch_buffer(), what); }
    /// Appends received bytes to the buffer; false at end of stream.
    Coro<bool> fill(const char* what);
    static const char* scratch() noexcept { return scratch_buffer(); }
    [[nodiscard]] std::string_view buffered() const noexcept {
        return std::string_view(rbuf_).substr(rpos_);
    }
    /// Removes and returns the first `n` buffered bytes.
    std::string take(std::size_t n);
    void drop(std::size_t n) noexcept;
    void keep(std::string_view bytes) { rbuf_.append(bytes); }
    [[nodiscard]] bool eof() const noexcept { return eof_; }
    [[nodiscard]] std::size_t limit() const noexcept { return limit_; }
    [[nodiscard]] int sock() const noexcept { return fd_; }

    // ---- TLS (tls.cpp) ----
    /// Starts TLS on this connection and completes the handshake within `timeout`;
    /// `host` is the name to verify and send as SNI (clients), or empty.
    Coro<> start_tls(const SSLContext& ctx, std::string host, std::chrono::milliseconds timeout);
    [[nodiscard]] bool has_tls() const noexcept { return tls_ != nullptr; }
    /// get_extra_info's TLS keys ("ssl_object", "peercert", "cipher", …); empty if none.
    [[nodiscard]] std::any tls_info(std::string_view name) const;

    // ---- writing ----
    void write(std::string_view data);
    Coro<> drain();
    /// Sends `count` bytes of `file` from `offset` after what is buffered: sendfile(2) on a
    /// plain socket, read-and-write through TLS or a pipe. Returns the bytes sent (fewer
    /// when the file ended first).
    Coro<std::size_t> sendfile(int file, std::uint64_t offset, std::size_t count);
    void write_eof();
    void close();
    void abort() noexcept;
    Coro<> wait_closed();
    [[nodiscard]] State state() const noexcept { return state_; }
    [[nodiscard]] std::size_t pending() const noexcept { return wbuf_.size() - wpos_; }
    void set_limits(std::size_t high, std::size_t low);
    [[nodiscard]] const SocketAddress& peer() const noexcept { return peer_; }
    [[nodiscard]] std::string describe() const override { return "stream to " + describe_peer(); }
    [[nodiscard]] SocketAddress local() const;

    /// One receive without waiting, into a 64 KiB `buf`: true with `got` bytes (0 at end
    /// of stream), false if the caller must wait for readiness first.
    bool try_recv_raw(char* buf, std::size_t& got);
    static char* scratch_buffer() noexcept;

private:
    Coro<std::size_t> recv_raw(char* buf, const char* what);
    Coro<std::size_t> tls_recv(const char* what);
    Coro<> tls_handshake();
    void write_raw(std::string_view data);
    Coro<std::size_t> sendfile_copy(int file, std::uint64_t offset, std::size_t count);
    /// Waits until everything buffered has reached the socket.
    Coro<> flush_all(const char* what);
    void tls_write(std::string_view data);
    void tls_close_notify() noexcept;
    /// Moves what OpenSSL produced (records, alerts, close_notify) to the socket.
    void pump_tls_output();
    [[noreturn]] void raise_tls_error(int ret, const char* during);
    void on_writable() override;
    void on_flush() noexcept override;
    ssize_t send_some(const char* data, std::size_t n) noexcept;
    void send_eof() noexcept;
    void flush();
    void connection_lost(int err);
    void finish_close() noexcept;
    [[noreturn]] void raise_lost() const;
    [[nodiscard]] std::string describe_peer() const;

    int fd_;
    std::uint32_t refs_ = 0;
    State state_ = State::open;
    bool is_socket_ = true;    // else a pipe: read/write instead of recv/send
    bool eof_ = false;         // the peer closed its side (or we closed the connection)
    bool eof_wanted_ = false;  // write_eof() once the buffer is flushed
    bool eof_sent_ = false;
    bool paused_ = false;      // above the high-water mark until back at the low one
    bool sending_file_ = false;  // sendfile() owns the socket: write() must wait
    int lost_errno_ = 0;       // the error that broke the connection
    std::size_t limit_;
    std::size_t rpos_ = 0;
    std::string rbuf_;
    std::size_t wpos_ = 0;
    std::string wbuf_;
    /// Writes this large (or leaving this much buffered) are sent at once, not coalesced.
    static constexpr std::size_t kSendAtOnce = 16 * 1024;
    std::size_t high_ = 64 * 1024;
    std::size_t low_ = 16 * 1024;
    SocketAddress peer_;
    std::unique_ptr<TlsSession> tls_;
    Event writable_;  // set while not paused
    Event closed_;
};

}  // namespace aio::detail
