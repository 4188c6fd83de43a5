#include "aio/net/streams.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <cstring>

#include "aio/exceptions.hpp"
#include "aio/sleep.hpp"
#include "net/tls_session.hpp"
#include "net/transport.hpp"

namespace aio {
namespace detail {

namespace {
constexpr std::size_t kScratch = 64 * 1024;
// Reads land here first: a connection keeps no buffer of its own while nothing is left
// over, so 10,000 idle connections cost no read buffers.
thread_local char tl_scratch[kScratch];
}  // namespace

char* StreamTransport::scratch_buffer() noexcept { return tl_scratch; }

namespace {
// Pipes have no MSG_NOSIGNAL: writing to one whose reader is gone would kill the process
// with SIGPIPE. As Python does at startup, ignore it (unless the program handles it).
void ignore_sigpipe() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction old {};
        if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
    });
}
}  // namespace

StreamTransport::StreamTransport(EventLoop& loop, int fd, std::size_t limit, const SocketAddress& peer)
    : fd_(fd), limit_(limit), peer_(peer) {
    struct stat st {};
    is_socket_ = ::fstat(fd, &st) != 0 || S_ISSOCK(st.st_mode);
    if (!is_socket_) ignore_sigpipe();
    writable_.set();
    try {
        // A fresh connection is usually writable and may already hold data; trying costs
        // at most one EAGAIN.
        open(loop, fd, true, true);
    } catch (...) {
        ::close(fd);
        throw;
    }
}

StreamTransport::~StreamTransport() { finish_close(); }

void StreamTransport::release() noexcept {
    if (--refs_ != 0) return;
    if (state_ != State::closed) {
        if (pending() > 0 && lost_errno_ == 0) flush();
        EventLoop* l = loop();
        if (pending() > 0 && l && l->get_debug()) {
            l->call_exception_handler({"StreamWriter dropped with " + std::to_string(pending()) +
                                           " unsent bytes to " + describe_peer() +
                                           " (call close() and await wait_closed() to flush)",
                                       nullptr, {}, {}});
        }
    }
    delete this;
}

ssize_t StreamTransport::send_some(const char* data, std::size_t n) noexcept {
    return is_socket_ ? ::send(fd_, data, n, MSG_NOSIGNAL) : ::write(fd_, data, n);
}

std::string StreamTransport::describe_peer() const {
    if (!is_socket_) return "pipe";
    if (peer_.family() == AF_UNIX) {
        std::string path = peer_.to_string();
        return path.empty() ? "a Unix socket peer" : path;
    }
    return peer_.to_string();
}

SocketAddress StreamTransport::local() const {
    SocketAddress a;
    socklen_t len = SocketAddress::capacity();
    if (fd_ < 0 || ::getsockname(fd_, a.data(), &len) < 0) return SocketAddress();
    a.set_size(len);
    return a;
}

void StreamTransport::raise_lost() const {
    raise_os_error(lost_errno_, "connection to " + describe_peer() + " lost");
}

// ---- reading ----

bool StreamTransport::try_recv_raw(char* buf, std::size_t& got) {
    for (;;) {
        got = 0;
        if (eof_) return true;
        if (lost_errno_ != 0) raise_lost();
        if (closed()) {
            eof_ = true;  // closed locally: reads end as at end of stream
            return true;
        }
        // Not ready, or ready with the task's coop budget spent: the caller waits (and
        // with the budget spent, that wait is a yield).
        if (!ready(kRead) || --loop()->io_budget_ <= 0) return false;
        ssize_t n = is_socket_ ? ::recv(fd_, buf, kScratch, 0) : ::read(fd_, buf, kScratch);
        if (n > 0) {
            // A short read drained the socket: the next edge will say when more arrives.
            if (static_cast<std::size_t>(n) < kScratch) clear(kRead);
            got = static_cast<std::size_t>(n);
            return true;
        }
        if (n == 0) {
            eof_ = true;
            return true;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            clear(kRead);
            return false;
        }
        if (errno != EINTR) {
            connection_lost(errno);
            raise_lost();
        }
    }
}

Coro<std::size_t> StreamTransport::recv_raw(char* buf, const char* what) {
    std::size_t got = 0;
    while (!try_recv_raw(buf, got)) co_await wait(kRead, what);
    co_return got;
}

Coro<bool> StreamTransport::fill(const char* what) {
    std::size_t n = co_await recv_some(what);
    if (n == 0) co_return false;
    if (rpos_ > 0 && rpos_ == rbuf_.size()) {
        rbuf_.clear();
        rpos_ = 0;
    }
    rbuf_.append(tl_scratch, n);
    co_return true;
}

std::string StreamTransport::take(std::size_t n) {
    std::string out(buffered().substr(0, n));
    drop(out.size());
    return out;
}

void StreamTransport::drop(std::size_t n) noexcept {
    rpos_ += n;
    if (rpos_ >= rbuf_.size()) {
        rpos_ = 0;
        rbuf_.clear();
        // Give back a large buffer so an idle connection holds no memory for reading.
        if (rbuf_.capacity() > 16 * 1024) std::string().swap(rbuf_);
    } else if (rpos_ > 4096 && rpos_ * 2 > rbuf_.size()) {
        rbuf_.erase(0, rpos_);
        rpos_ = 0;
    }
}

// ---- writing ----

void StreamTransport::write(std::string_view data) {
    if (eof_wanted_) throw RuntimeError("RuntimeError: Cannot call write() after write_eof()");
    if (state_ != State::open) throw RuntimeError("RuntimeError: StreamWriter.write() after close()");
    if (lost_errno_ != 0) raise_lost();
    if (sending_file_) throw RuntimeError("RuntimeError: StreamWriter.write() while sendfile() is in progress");
    if (data.empty()) return;
    if (tls_) {
        tls_write(data);
        return;
    }
    write_raw(data);
}

void StreamTransport::write_raw(std::string_view data) {
    if (data.empty() || lost_errno_ != 0 || state_ == State::closed) return;
    // Small writes wait for the end of the loop's batch (detail/io.hpp: write coalescing);
    // large ones, and writes while the loop is not running, go out at once.
    const EventLoop* l = loop();
    const bool coalesce = l && l->is_running();
    if (pending() == 0 && ready(kWrite) && (data.size() >= kSendAtOnce || !coalesce)) {
        for (;;) {
            ssize_t n = send_some(data.data(), data.size());
            if (n >= 0) {
                if (static_cast<std::size_t>(n) == data.size()) return;
                clear(kWrite);
                data.remove_prefix(static_cast<std::size_t>(n));
                break;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                clear(kWrite);
                break;
            }
            connection_lost(errno);
            raise_lost();
        }
    }
    wbuf_.append(data);
    if (ready(kWrite)) {
        if (pending() >= kSendAtOnce || !coalesce) {
            flush();
            if (lost_errno_ != 0) raise_lost();
        } else {
            defer_flush();
        }
    }
    if (!paused_ && pending() > high_) {
        paused_ = true;
        writable_.clear();
    }
}

void StreamTransport::on_flush() noexcept {
    if (pending() > 0 && lost_errno_ == 0 && state_ != State::closed) flush();
}

void StreamTransport::on_writable() {
    if (pending() > 0 || eof_wanted_) flush();
}

void StreamTransport::flush() {
    while (pending() > 0) {
        const std::size_t want = pending();
        ssize_t n = send_some(wbuf_.data() + wpos_, want);
        if (n >= 0) {
            wpos_ += static_cast<std::size_t>(n);
            if (static_cast<std::size_t>(n) < want) {
                clear(kWrite);
                break;
            }
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            clear(kWrite);
            break;
        } else if (errno != EINTR) {
            connection_lost(errno);
            return;
        }
    }
    if (pending() == 0) {
        wbuf_.clear();
        wpos_ = 0;
        if (wbuf_.capacity() > 64 * 1024) std::string().swap(wbuf_);
        if (eof_wanted_ && !eof_sent_) send_eof();
        if (state_ == State::closing) finish_close();
    } else if (wpos_ > 64 * 1024 && wpos_ * 2 > wbuf_.size()) {
        wbuf_.erase(0, wpos_);
        wpos_ = 0;
    }
    if (paused_ && pending() <= low_) {
        paused_ = false;
        writable_.set();
    }
}

void StreamTransport::connection_lost(int err) {
    if (lost_errno_ == 0) lost_errno_ = err;
    // Unsent data cannot be delivered any more; waiters learn the error.
    wbuf_.clear();
    wpos_ = 0;
    paused_ = false;
    writable_.set();
    if (state_ == State::closing) finish_close();
}

Coro<> StreamTransport::drain() {
    if (lost_errno_ != 0) raise_lost();
    if (state_ != State::open) {
        // asyncio yields here so a closing connection gets to finish.
        co_await aio::sleep(std::chrono::seconds(0));
        if (lost_errno_ != 0) raise_lost();
        if (state_ == State::closed && pending() > 0)
            throw ConnectionResetError(ECONNRESET, "connection to " + describe_peer() + " closed with data unsent");
        co_return;
    }
    while (paused_) {
        co_await writable_.wait();
        if (lost_errno_ != 0) raise_lost();
    }
}

Coro<> StreamTransport::flush_all(const char* what) {
    for (;;) {
        if (lost_errno_ != 0) raise_lost();
        if (state_ == State::closed) throw RuntimeError(std::string("RuntimeError: ") + what + " on a closed connection");
        if (pending() == 0) co_return;
        flush();
        if (pending() > 0 && lost_errno_ == 0) co_await wait(kWrite, what);
    }
}

Coro<std::size_t> StreamTransport::sendfile(int file, std::uint64_t offset, std::size_t count) {
    if (state_ != State::open || eof_wanted_) throw RuntimeError("RuntimeError: StreamWriter.sendfile() after close()");
    if (lost_errno_ != 0) raise_lost();
    if (sending_file_) throw RuntimeError("RuntimeError: StreamWriter.sendfile() is already in progress");
    if (tls_ || !is_socket_) co_return co_await sendfile_copy(file, offset, count);
    sending_file_ = true;
    struct Done {
        bool& flag;
        ~Done() { flag = false; }
    } done{sending_file_};
    // Bytes written before must reach the socket first.
    co_await flush_all("StreamWriter.sendfile()");
    auto off = static_cast<off_t>(offset);
    std::size_t sent = 0;
    while (sent < count) {
        if (state_ == State::closed) throw RuntimeError("RuntimeError: StreamWriter.sendfile() on a closed connection");
        const std::size_t want = std::min<std::size_t>(count - sent, std::size_t{1} << 30);
        const ssize_t n = ::sendfile(fd_, file, &off, want);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n == 0) {
            break;  // the file is shorter than asked
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            clear(kWrite);
            co_await wait(kWrite, "StreamWriter.sendfile()");
        } else if (errno != EINTR) {
            const int err = errno;
            if (err == EBADF || err == EINVAL || err == ESPIPE || err == EOVERFLOW) {
                throw OSError(err, "sendfile() cannot read the file: " + std::string(std::strerror(err)));
            }
            connection_lost(err);
            raise_lost();
        }
    }
    co_return sent;
}

Coro<std::size_t> StreamTransport::sendfile_copy(int file, std::uint64_t offset, std::size_t count) {
    std::string chunk;
    std::size_t sent = 0;
    while (sent < count) {
        chunk.resize(std::min<std::size_t>(count - sent, 256 * 1024));
        const ssize_t n = ::pread(file, chunk.data(), chunk.size(), static_cast<off_t>(offset + sent));
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            throw OSError(err, "sendfile() cannot read the file: " + std::string(std::strerror(err)));
        }
        if (n == 0) break;
        write(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
        sent += static_cast<std::size_t>(n);
        co_await drain();
    }
    co_return sent;
}

void StreamTransport::write_eof() {
    if (tls_) throw RuntimeError("RuntimeError: TLS connections cannot half-close: write_eof() is not supported");
    if (state_ != State::open || eof_wanted_) return;
    eof_wanted_ = true;
    if (pending() == 0) send_eof();
}

void StreamTransport::send_eof() noexcept {
    eof_sent_ = true;
    if (is_socket_) {
        ::shutdown(fd_, SHUT_WR);
    } else {
        finish_close();  // a pipe's end of stream is its closing
    }
}

void StreamTransport::close() {
    if (state_ != State::open) return;
    if (tls_) tls_close_notify();
    state_ = State::closing;
    if (pending() == 0 || lost_errno_ != 0) finish_close();
}

void StreamTransport::abort() noexcept {
    wbuf_.clear();
    wpos_ = 0;
    finish_close();
}

void StreamTransport::finish_close() noexcept {
    if (state_ == State::closed) return;
    state_ = State::closed;
    wbuf_.clear();
    wpos_ = 0;
    IoRegistration::close();  // wakes a waiting reader, which then sees end of stream
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    paused_ = false;
    writable_.set();
    closed_.set();
}

Coro<> StreamTransport::wait_closed() {
    co_await closed_.wait();
    if (lost_errno_ != 0) raise_lost();
}

void StreamTransport::set_limits(std::size_t high, std::size_t low) {
    if (low > high) throw ValueError("ValueError: high (" + std::to_string(high) + ") must be >= low (" +
                                     std::to_string(low) + ")");
    high_ = high;
    low_ = low;
    if (!paused_ && pending() > high_) {
        paused_ = true;
        writable_.clear();
    } else if (paused_ && pending() <= low_) {
        paused_ = false;
        writable_.set();
    }
}

}  // namespace detail

// ---- StreamReader ----

StreamReader::StreamReader(detail::StreamTransport* t) noexcept : t_(t) {}
StreamReader::~StreamReader() {
    if (t_) t_->release();
}

namespace {
void need(const void* t, const char* what) {
    if (!t) throw InvalidStateError(std::string("InvalidStateError: ") + what + " on an empty (moved-from) stream");
}
}  // namespace

Coro<std::string> StreamReader::read(std::ptrdiff_t n) {
    need(t_, "StreamReader.read()");
    if (n == 0) co_return std::string();
    if (n < 0) {
        // Until end of stream.
        while (co_await t_->fill("StreamReader.read")) {
        }
        co_return t_->take(t_->buffered().size());
    }
    const auto want = static_cast<std::size_t>(n);
    if (t_->buffered().empty()) {
        std::size_t got = 0;
        if (t_->has_tls()) {
            got = co_await t_->recv_some("StreamReader.read");
        } else {
            // The hot path of every echo/proxy loop: no inner coroutine, just the wait.
            while (!t_->try_recv_raw(detail::StreamTransport::scratch_buffer(), got))
                co_await t_->wait(detail::IoRegistration::kRead, "StreamReader.read");
        }
        if (got == 0) co_return std::string();
        // Straight from the scratch buffer; only a remainder is kept.
        const char* s = detail::StreamTransport::scratch();
        std::string out(s, std::min(got, want));
        if (got > want) t_->keep(std::string_view(s + want, got - want));
        co_return out;
    }
    co_return t_->take(want);
}

Coro<std::string> StreamReader::readuntil(std::string_view separator) {
    need(t_, "StreamReader.readuntil()");
    if (separator.empty()) throw ValueError("ValueError: Separator should be at least one-byte string");
    std::size_t searched = 0;
    for (;;) {
        std::string_view buf = t_->buffered();
        const std::size_t from = searched >= separator.size() ? searched - separator.size() + 1 : 0;
        std::size_t pos = buf.find(separator, from);
        if (pos != std::string_view::npos) {
            if (pos > t_->limit())
                throw LimitOverrunError("LimitOverrunError: Separator is found, but chunk is longer than limit", pos);
            co_return t_->take(pos + separator.size());
        }
        searched = buf.size();
        if (buf.size() > t_->limit())
            throw LimitOverrunError("LimitOverrunError: Separator is not found, and chunk exceed the limit", buf.size());
        if (!co_await t_->fill("StreamReader.readuntil")) {
            std::string partial = t_->take(t_->buffered().size());
            throw IncompleteReadError(std::move(partial), std::string::npos);
        }
    }
}

Coro<std::string> StreamReader::readline() {
    need(t_, "StreamReader.readline()");
    std::string line;
    std::exception_ptr overrun;
    try {
        line = co_await readuntil("\n");
    } catch (const IncompleteReadError& e) {
        line = e.partial();
    } catch (const LimitOverrunError& e) {
        // As asyncio: drop the over-long line (through its separator if it was seen).
        std::string_view buf = t_->buffered();
        if (buf.substr(e.consumed(), 1) == "\n") {
            t_->drop(e.consumed() + 1);
        } else {
            t_->drop(buf.size());
        }
        overrun = std::current_exception();
    }
    if (overrun) {
        throw ValueError("ValueError: line longer than the stream limit of " + std::to_string(t_->limit()) +
                         " bytes (discarded)");
    }
    co_return line;
}

Coro<std::string> StreamReader::readexactly(std::size_t n) {
    need(t_, "StreamReader.readexactly()");
    while (t_->buffered().size() < n) {
        if (!co_await t_->fill("StreamReader.readexactly")) {
            std::string partial = t_->take(t_->buffered().size());
            throw IncompleteReadError(std::move(partial), n);
        }
    }
    co_return t_->take(n);
}

Coro<std::size_t> StreamReader::read_into(std::span<std::byte> buf) {
    need(t_, "StreamReader.read_into()");
    if (buf.empty()) co_return 0;
    if (t_->buffered().empty()) {
        std::size_t got = co_await t_->recv_some("StreamReader.read_into");
        const char* s = detail::StreamTransport::scratch();
        const std::size_t n = std::min(got, buf.size());
        std::memcpy(buf.data(), s, n);
        if (got > n) t_->keep(std::string_view(s + n, got - n));
        co_return n;
    }
    std::string_view have = t_->buffered();
    const std::size_t n = std::min(have.size(), buf.size());
    std::memcpy(buf.data(), have.data(), n);
    t_->drop(n);
    co_return n;
}

bool StreamReader::at_eof() const noexcept { return !t_ || (t_->eof() && t_->buffered().empty()); }
std::size_t StreamReader::buffered() const noexcept { return t_ ? t_->buffered().size() : 0; }
std::size_t StreamReader::limit() const noexcept { return t_ ? t_->limit() : 0; }

// ---- StreamWriter ----

StreamWriter::StreamWriter(detail::StreamTransport* t) noexcept : t_(t) {}
StreamWriter::~StreamWriter() {
    if (t_) t_->release();
}

void StreamWriter::write(std::string_view data) {
    need(t_, "StreamWriter.write()");
    t_->write(data);
}

Coro<> StreamWriter::drain() {
    need(t_, "StreamWriter.drain()");
    return t_->drain();
}

Coro<std::size_t> StreamWriter::sendfile(int file, std::uint64_t offset, std::size_t count) {
    need(t_, "StreamWriter.sendfile()");
    return t_->sendfile(file, offset, count);
}

void StreamWriter::write_eof() {
    need(t_, "StreamWriter.write_eof()");
    t_->write_eof();
}

void StreamWriter::close() {
    need(t_, "StreamWriter.close()");
    t_->close();
}

void StreamWriter::abort() noexcept {
    if (t_) t_->abort();
}

bool StreamWriter::can_write_eof() const noexcept { return !t_ || !t_->has_tls(); }

bool StreamWriter::is_closing() const noexcept { return !t_ || t_->state() != detail::StreamTransport::State::open; }

Coro<> StreamWriter::start_tls(const SSLContext& context, std::string_view server_hostname,
                               std::chrono::milliseconds ssl_handshake_timeout) {
    need(t_, "StreamWriter.start_tls()");
    return t_->start_tls(context, std::string(server_hostname), ssl_handshake_timeout);
}

Coro<> StreamWriter::wait_closed() {
    need(t_, "StreamWriter.wait_closed()");
    return t_->wait_closed();
}

std::any StreamWriter::get_extra_info(std::string_view name) const {
    if (!t_) return {};
    if (name == "peername") return t_->peer();
    if (name == "sockname") return t_->local();
    if (name == "socket") return t_->sock();
    return t_->tls_info(name);
}

SocketAddress StreamWriter::peername() const { return t_ ? t_->peer() : SocketAddress(); }
SocketAddress StreamWriter::sockname() const { return t_ ? t_->local() : SocketAddress(); }
std::size_t StreamWriter::buffer_size() const noexcept { return t_ ? t_->pending() : 0; }

void StreamWriter::set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low) {
    need(t_, "StreamWriter.set_write_buffer_limits()");
    t_->set_limits(high, low ? *low : high / 4);
}

}  // namespace aio
