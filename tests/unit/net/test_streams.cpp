#include "aio/net/streams.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "aio/net/dns.hpp"
#include "aio/net/sockets.hpp"
#include "fake_dns.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

aio::Coro<> echo_lines(aio::StreamReader reader, aio::StreamWriter writer) {
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

aio::Coro<> send_then_close(std::string data, aio::StreamWriter writer) {
    writer.write(data);
    writer.close();
    co_await writer.wait_closed();
}

std::string temp_dir() {
    char tmpl[] = "/tmp/aiocpp-test-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    return d ? std::string(d) : std::string("/tmp");
}

}  // namespace

AIO_REAL_TEST(Streams, EchoRoundTripOverTcp) {
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    CO_ASSERT_TRUE(server.is_serving());
    CO_ASSERT_NE(server.port(), 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    writer.write("hello\n");
    writer.write("world\n");
    co_await writer.drain();
    EXPECT_EQ(co_await reader.readline(), "hello\n");
    EXPECT_EQ(co_await reader.readline(), "world\n");
    EXPECT_EQ(std::any_cast<aio::SocketAddress>(writer.get_extra_info("peername")).port(), server.port());
    EXPECT_EQ(writer.peername().host(), "127.0.0.1");
    EXPECT_FALSE(writer.get_extra_info("nonsense").has_value());
    writer.write_eof();
    EXPECT_EQ(co_await reader.read(), "");  // the server saw EOF and closed
    EXPECT_TRUE(reader.at_eof());
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
    EXPECT_FALSE(server.is_serving());
}

AIO_REAL_TEST(Streams, ReadSemantics) {
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader, aio::StreamWriter w) { return send_then_close("abcdefghij", std::move(w)); },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    EXPECT_EQ(co_await reader.read(0), "");
    std::string first = co_await reader.readexactly(3);
    EXPECT_EQ(first, "abc");
    std::string some = co_await reader.read(2);
    EXPECT_EQ(some, "de");
    std::string rest = co_await reader.read();  // to end of stream
    EXPECT_EQ(rest, "fghij");
    EXPECT_TRUE(reader.at_eof());
    EXPECT_EQ(co_await reader.read(10), "");
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, ReadexactlyAtEofRaisesWithPartial) {
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader, aio::StreamWriter w) { return send_then_close("12345", std::move(w)); }, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    bool raised = false;
    try {
        (void)co_await reader.readexactly(10);
    } catch (const aio::IncompleteReadError& e) {
        raised = true;
        EXPECT_EQ(e.partial(), "12345");
        EXPECT_EQ(e.expected(), 10u);
    }
    EXPECT_TRUE(raised);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, ReaduntilLimitKeepsDataAndReadlineDiscards) {
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader, aio::StreamWriter w) {
            return send_then_close(std::string(40, 'x') + "|tail\n" + std::string(40, 'y') + "\nok\n", std::move(w));
        },
        "127.0.0.1", 0);
    aio::ConnectOptions opts;
    opts.limit = 16;
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), opts);
    bool overrun = false;
    try {
        (void)co_await reader.readuntil("|");
    } catch (const aio::LimitOverrunError& e) {
        overrun = true;
        EXPECT_GE(e.consumed(), 16u);
    }
    EXPECT_TRUE(overrun);
    EXPECT_GE(reader.buffered(), 16u);  // LimitOverrunError keeps the data
    std::string kept = co_await reader.readexactly(41);
    EXPECT_EQ(kept, std::string(40, 'x') + "|");
    EXPECT_EQ(co_await reader.readline(), "tail\n");
    bool too_long = false;
    try {
        (void)co_await reader.readline();
    } catch (const aio::ValueError&) {
        too_long = true;
    }
    EXPECT_TRUE(too_long);
    EXPECT_EQ(co_await reader.readline(), "ok\n");  // the long line was discarded
    EXPECT_EQ(co_await reader.readline(), "");
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, ReaduntilAtEofRaisesIncompleteRead) {
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader, aio::StreamWriter w) { return send_then_close("no separator", std::move(w)); },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    std::string partial;
    try {
        (void)co_await reader.readuntil("\r\n");
    } catch (const aio::IncompleteReadError& e) {
        partial = e.partial();
        EXPECT_NE(std::string(e.what()).find("undefined"), std::string::npos);
    }
    EXPECT_EQ(partial, "no separator");
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, ReadTimeoutLosesNoBytes) {
    aio::Event send_now;
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader, aio::StreamWriter w) -> aio::Coro<> {
            co_await send_now.wait();
            co_await send_then_close("late", std::move(w));
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    bool timed_out = false;
    try {
        (void)co_await aio::wait_for(reader.read(10), 50ms);
    } catch (const aio::TimeoutError&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    send_now.set();
    EXPECT_EQ(co_await reader.readexactly(4), "late");
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, PeerResetRaisesConnectionResetError) {
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader r, aio::StreamWriter w) -> aio::Coro<> {
            (void)co_await r.readline();
            // SO_LINGER 0 turns close() into a reset.
            ::linger lg{1, 0};
            ::setsockopt(std::any_cast<int>(w.get_extra_info("socket")), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            w.abort();
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    writer.write("go\n");
    std::string error;
    try {
        (void)co_await reader.read(100);
    } catch (const aio::ConnectionResetError& e) {
        error = e.what();
    }
    EXPECT_NE(error.find("ConnectionResetError"), std::string::npos) << error;
    EXPECT_NE(error.find("127.0.0.1"), std::string::npos) << error;
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, WritingToAClosedPeerRaises) {
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader, aio::StreamWriter w) -> aio::Coro<> {
            ::linger lg{1, 0};
            ::setsockopt(std::any_cast<int>(w.get_extra_info("socket")), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            w.abort();
            co_return;
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    bool raised = false;
    try {
        (void)co_await reader.read();  // the reset: end of stream or ConnectionResetError
    } catch (const aio::ConnectionResetError&) {
    }
    try {
        for (int i = 0; i < 100 && !raised; ++i) {
            writer.write(std::string(1024, 'z'));
            co_await writer.drain();
            co_await aio::sleep(1ms);
        }
    } catch (const aio::ConnectionError&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, DrainAppliesBackPressure) {
    aio::Event done;
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader, aio::StreamWriter) -> aio::Coro<> { co_await done.wait(); },  // never reads
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    const std::string chunk(64 * 1024, 'b');
    bool blocked = false;
    std::size_t written = 0;
    for (int i = 0; i < 2000 && !blocked; ++i) {
        writer.write(chunk);
        written += chunk.size();
        EXPECT_LE(writer.buffer_size(), 64u * 1024 + chunk.size());
        try {
            co_await aio::wait_for(writer.drain(), 100ms);
        } catch (const aio::TimeoutError&) {
            blocked = true;
        }
    }
    EXPECT_TRUE(blocked) << "drain never waited after " << written << " bytes";
    EXPECT_GT(writer.buffer_size(), 16u * 1024);
    writer.abort();
    done.set();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, CloseCancelsHandlersAndWaitClosedWaits) {
    bool cancelled = false;
    int started = 0;
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader r, aio::StreamWriter) -> aio::Coro<> {
            ++started;
            try {
                (void)co_await r.read(1);
            } catch (const aio::CancelledError&) {
                cancelled = true;
                throw;
            }
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    while (server.connection_count() == 0 || started == 0) co_await aio::sleep(1ms);
    server.close();
    co_await server.wait_closed();
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(server.connection_count(), 0u);
    EXPECT_EQ(co_await reader.read(), "");  // the handler's connection was closed
    bool refused = false;
    try {
        (void)co_await aio::open_connection("127.0.0.1", server.sockets().front().port());
    } catch (const aio::ConnectionRefusedError&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
}

AIO_REAL_TEST(Streams, HandlerExceptionIsReportedAndServingGoesOn) {
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader r, aio::StreamWriter w) -> aio::Coro<> {
            std::string line = co_await r.readline();
            if (line == "boom\n") throw std::runtime_error("handler failed");
            w.write(line);
            co_await w.drain();
        },
        "127.0.0.1", 0);
    {
        auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
        writer.write("boom\n");
        EXPECT_EQ(co_await reader.read(), "");
    }
    auto reports = loop.take_reports();
    EXPECT_EQ(reports.size(), 1u);
    if (!reports.empty()) {
        EXPECT_EQ(reports[0].message, "Unhandled exception in client_connected_cb");
        EXPECT_NE(aio::describe(reports[0].exception).find("handler failed"), std::string::npos);
    }
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    writer.write("fine\n");
    EXPECT_EQ(co_await reader.readline(), "fine\n");
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, ConnectionRefusedNamesTheAddress) {
    aio::Socket probe(AF_INET, SOCK_STREAM);
    probe.bind(*aio::SocketAddress::parse("127.0.0.1", 0));
    const std::uint16_t port = probe.sockname().port();
    probe.close();  // bound, never listening: connections are refused
    std::string error;
    try {
        (void)co_await aio::open_connection("127.0.0.1", port);
    } catch (const aio::ConnectionRefusedError& e) {
        error = e.what();
    }
    EXPECT_NE(error.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << error;
}

AIO_REAL_TEST(Streams, LocalhostTriesEachAddressUntilOneConnects) {
    // Only IPv4 listens: "localhost" may resolve to ::1 first, which is refused, and the
    // next address must be tried.
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("localhost", server.port());
    writer.write("via localhost\n");
    EXPECT_EQ(co_await reader.readline(), "via localhost\n");
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, UnixSocketServerAndClient) {
    const std::string dir = temp_dir();
    const std::string path = dir + "/echo.sock";
    aio::Server server = co_await aio::start_unix_server(echo_lines, path);
    auto [reader, writer] = co_await aio::open_unix_connection(path);
    writer.write("over unix\n");
    EXPECT_EQ(co_await reader.readline(), "over unix\n");
    EXPECT_EQ(server.sockets().front().to_string(), path);
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
    struct stat st {};
    EXPECT_NE(::stat(path.c_str(), &st), 0) << "the socket file is removed at close";
    ::rmdir(dir.c_str());
}

AIO_REAL_TEST(Streams, TwoConcurrentReadersAreRefused) {
    aio::Event done;
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader, aio::StreamWriter) -> aio::Coro<> { co_await done.wait(); }, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    auto first = aio::create_task(reader.read(1));
    co_await aio::sleep(0ms);
    bool refused = false;
    try {
        (void)co_await reader.read(1);
    } catch (const aio::RuntimeError& e) {
        refused = std::string(e.what()).find("already waiting") != std::string::npos;
    }
    EXPECT_TRUE(refused);
    first.cancel();
    try {
        (void)co_await first;
    } catch (const aio::CancelledError&) {
    }
    done.set();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, ServeForeverEndsWhenCancelled) {
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    auto serving = aio::create_task(server.serve_forever());
    co_await aio::sleep(1ms);
    serving.cancel();
    bool cancelled = false;
    try {
        co_await serving;
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_FALSE(server.is_serving());
}

AIO_REAL_TEST(Streams, AcceptKeepsWorkingAfterRunningOutOfFds) {
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    rlimit old{};
    ::getrlimit(RLIMIT_NOFILE, &old);
    rlimit tight = old;
    tight.rlim_cur = static_cast<rlim_t>(aio::test::open_fd_count() + 64);
    ::setrlimit(RLIMIT_NOFILE, &tight);
    // Fill the fd table, then free one fd for the client's socket: its connection lands
    // in the backlog and the server's accept() fails with EMFILE.
    std::vector<int> fillers;
    for (int fd = ::dup(2); fd >= 0; fd = ::dup(2)) fillers.push_back(fd);
    ::close(fillers.back());
    fillers.pop_back();
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    co_await aio::sleep(20ms);
    for (int fd : fillers) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &old);
    writer.write("still served\n");
    std::string line = co_await aio::wait_for(reader.readline(), 10s);
    EXPECT_EQ(line, "still served\n");
    auto reports = loop.take_reports();
    EXPECT_FALSE(reports.empty());
    for (const auto& r : reports) {
        EXPECT_EQ(r.message, "socket.accept() out of system resource");
        EXPECT_NE(aio::describe(r.exception).find("Too many open files"), std::string::npos);
    }
    writer.close();
    server.close();
    co_await server.wait_closed();
}

AIO_TEST(Streams, PipesCarryStreams) {
    int fds[2];
    CO_ASSERT_EQ(::pipe(fds), 0);
    aio::StreamReader reader = aio::connect_read_pipe(fds[0]);
    aio::StreamWriter writer = aio::connect_write_pipe(fds[1]);
    writer.write("first line\nsecond");
    co_await writer.drain();
    EXPECT_EQ(co_await reader.readline(), "first line\n");
    writer.write_eof();  // closes the write end
    EXPECT_TRUE(writer.is_closing() || writer.buffer_size() == 0);
    EXPECT_EQ(co_await reader.read(), "second");
    EXPECT_TRUE(reader.at_eof());
}

AIO_TEST(Streams, WritingToAPipeWithoutReaderFailsTheNextDrain) {
    int fds[2];
    CO_ASSERT_EQ(::pipe(fds), 0);
    ::close(fds[0]);
    aio::StreamWriter writer = aio::connect_write_pipe(fds[1]);
    // As in asyncio, write() only buffers; the failed send surfaces in the next drain()
    // (here after the loop's batch ended and tried to send).
    writer.write("nobody listens");
    co_await aio::sleep(0s);
    bool broken = false;
    try {
        co_await writer.drain();
    } catch (const aio::BrokenPipeError& e) {
        broken = std::string(e.what()).find("pipe") != std::string::npos;
    }
    EXPECT_TRUE(broken);
}

AIO_TEST(Streams, SmallWritesOfABatchLeaveTogetherWhenItEnds) {
    int fds[2];
    CO_ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    auto [reader, writer] = aio::open_connection(aio::Socket::adopt(fds[0]));
    writer.write("one ");
    writer.write("two ");
    writer.write("three");
    EXPECT_EQ(writer.buffer_size(), 13u);
    char buf[64];
    EXPECT_EQ(::recv(fds[1], buf, sizeof buf, 0), -1);  // nothing sent before the batch ends
    co_await writer.drain();  // below the high-water mark: does not wait, does not send
    EXPECT_EQ(writer.buffer_size(), 13u);
    co_await aio::sleep(0s);
    EXPECT_EQ(writer.buffer_size(), 0u);
    const ssize_t n = ::recv(fds[1], buf, sizeof buf, 0);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(std::max<ssize_t>(n, 0))), "one two three");
    writer.abort();
    ::close(fds[1]);
}

AIO_TEST(Streams, LargeWritesGoOutAtOnceBehindTheBufferedOnes) {
    int fds[2];
    CO_ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    auto [reader, writer] = aio::open_connection(aio::Socket::adopt(fds[0]));
    writer.write("head:");
    const std::string big(32 * 1024, 'x');
    writer.write(big);
    EXPECT_EQ(writer.buffer_size(), 0u);  // both sent in write(), in order
    std::string got(64 * 1024, '\0');
    const ssize_t n = ::recv(fds[1], got.data(), got.size(), 0);
    got.resize(static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    EXPECT_EQ(got, "head:" + big);
    writer.abort();
    ::close(fds[1]);
}

AIO_TEST(Streams, CloseRightAfterAWriteSendsItThenEndsTheStream) {
    int fds[2];
    CO_ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    auto [reader, writer] = aio::open_connection(aio::Socket::adopt(fds[0]));
    writer.write("last words");
    writer.close();
    co_await writer.wait_closed();
    char buf[64];
    const ssize_t n = ::recv(fds[1], buf, sizeof buf, 0);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(std::max<ssize_t>(n, 0))), "last words");
    EXPECT_EQ(::recv(fds[1], buf, sizeof buf, 0), 0);
    ::close(fds[1]);
}

AIO_REAL_TEST(Streams, OpenConnectionOnAConnectedSocket) {
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    aio::Socket sock(AF_INET, SOCK_STREAM);
    co_await aio::sock_connect(sock, server.sockets().front());
    auto [reader, writer] = aio::open_connection(std::move(sock));
    writer.write("adopted\n");
    EXPECT_EQ(co_await reader.readline(), "adopted\n");
    EXPECT_EQ(writer.peername(), server.sockets().front());
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}

// Happy Eyeballs (RFC 8305): a name with a first address that never answers (a listener
// whose accept queue is full drops SYNs) and a second one that does connects to the
// second after the delay, and the abandoned attempt leaves nothing behind.
AIO_REAL_TEST(Streams, HappyEyeballsSkipsAnAddressThatDoesNotAnswer) {
    aio::test::FakeDns dns;
    dns.add("he.test", {"127.0.0.2", "127.0.0.3"});
    aio::dns::ResolverOptions resolver;
    resolver.servers = dns.address();
    aio::dns::configure(resolver);

    aio::Socket stuck(AF_INET, SOCK_STREAM);
    stuck.bind(*aio::SocketAddress::parse("127.0.0.2", 0));
    stuck.listen(0);
    const std::uint16_t port = stuck.sockname().port();
    std::vector<aio::Socket> fillers;  // fill the accept queue: later SYNs are dropped
    for (int i = 0; i < 8; ++i) {
        aio::Socket s(AF_INET, SOCK_STREAM);
        bool connected = false;
        try {
            co_await aio::wait_for(aio::sock_connect(s, stuck.sockname()), 200ms);
            connected = true;
        } catch (const aio::TimeoutError&) {
        }
        fillers.push_back(std::move(s));
        if (!connected) break;
    }
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.3", port);
    aio::ConnectOptions opts;
    opts.happy_eyeballs_delay = 50ms;
    auto [reader, writer] = co_await aio::wait_for(aio::open_connection("he.test", port, opts), 30s);
    EXPECT_EQ(writer.peername().host(), "127.0.0.3");
    writer.write("eyeballs\n");
    EXPECT_EQ(co_await reader.readline(), "eyeballs\n");
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, AllInterfacesListenOnBothFamiliesWithOnePort) {
    aio::Server server = co_await aio::start_server(echo_lines, "", 0);
    std::vector<aio::SocketAddress> socks = server.sockets();
    CO_ASSERT_FALSE(socks.empty());
    for (const auto& a : socks) EXPECT_EQ(a.port(), server.port());
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    writer.write("v4\n");
    EXPECT_EQ(co_await reader.readline(), "v4\n");
    if (socks.size() == 2) {  // IPv6 is available here
        EXPECT_EQ(socks[1].family(), AF_INET6);
        auto [r6, w6] = co_await aio::open_connection("::1", server.port());
        w6.write("v6\n");
        EXPECT_EQ(co_await r6.readline(), "v6\n");
    }
    server.close();
    co_await server.wait_closed();
}

namespace {

// A temporary file holding `content`; removed when destroyed.
struct TempFile {
    explicit TempFile(const std::string& content) {
        char tmpl[] = "/tmp/aiocpp-sendfile-XXXXXX";
        fd = ::mkstemp(tmpl);
        path = tmpl;
        if (fd >= 0 && ::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
            ::close(std::exchange(fd, -1));
        }
    }
    ~TempFile() {
        if (fd >= 0) ::close(fd);
        ::unlink(path.c_str());
    }
    int fd = -1;
    std::string path;
};

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

// Made before any test runs: writing megabytes inside a test's step could be reported as
// a slow step in debug mode on a loaded machine.
const std::string& big_content() {
    static const std::string content = pattern(3 * 1024 * 1024 + 17);
    return content;
}
const TempFile& big_file() {
    static const TempFile file(big_content());
    return file;
}
const TempFile& huge_file() {
    static const TempFile file(pattern(8 * 1024 * 1024));
    return file;
}
[[maybe_unused]] const bool made_at_startup = big_file().fd >= 0 && huge_file().fd >= 0;

aio::Coro<std::string> read_all(aio::StreamReader reader, aio::StreamWriter writer) {
    std::string got = co_await reader.read();
    writer.close();
    co_return got;
}

}  // namespace

AIO_REAL_TEST(Streams, SendfileSendsTheRangeAfterBufferedWrites) {
    const std::string& content = big_content();  // more than the socket buffers hold
    const TempFile& file = big_file();
    CO_ASSERT_GE(file.fd, 0);
    std::optional<aio::Task<std::string>> received;
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Coro<> {
            received.emplace(aio::create_task(read_all(std::move(r), std::move(w))));
            co_return;
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    writer.write("head:");
    const std::size_t sent = co_await writer.sendfile(file.fd, 1000, content.size() - 2000);
    EXPECT_EQ(sent, content.size() - 2000);
    writer.write(":tail");
    // Asking past the end sends what there is.
    EXPECT_EQ(co_await writer.sendfile(file.fd, content.size() - 5, 100), 5u);
    writer.close();
    co_await writer.wait_closed();
    while (!received) co_await aio::sleep(0ms);
    const std::string got = co_await *received;
    EXPECT_EQ(got.size(), 5 + content.size() - 2000 + 5 + 5);
    const std::string_view all(got), want(content);
    EXPECT_EQ(all.substr(0, 5), "head:");
    EXPECT_TRUE(all.substr(5, want.size() - 2000) == want.substr(1000, want.size() - 2000)) << "the file's bytes differ";
    EXPECT_EQ(all.substr(5 + want.size() - 2000), ":tail" + std::string(want.substr(want.size() - 5)));
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Streams, WriteDuringSendfileIsRefused) {
    const TempFile& file = huge_file();
    CO_ASSERT_GE(file.fd, 0);
    aio::Event done;
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader, aio::StreamWriter) -> aio::Coro<> { co_await done.wait(); },  // never reads
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    auto sending = aio::create_task(writer.sendfile(file.fd, 0, 8 * 1024 * 1024));
    co_await aio::sleep(20ms);  // the peer does not read: sendfile waits for the socket
    EXPECT_FALSE(sending.done());
    EXPECT_THROW(writer.write("x"), aio::RuntimeError);
    sending.cancel();
    bool cancelled = false;
    try {
        (void)co_await sending;
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    writer.abort();
    done.set();
    server.close();
    co_await server.wait_closed();
}

AIO_TEST(Streams, SendfileOfABadFileRaisesOSError) {
    int fds[2];
    CO_ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    auto [reader, writer] = aio::open_connection(aio::Socket::adopt(fds[0]));
    int dir = ::open("/tmp", O_RDONLY | O_DIRECTORY);
    EXPECT_THROW((void)co_await writer.sendfile(dir, 0, 10), aio::OSError);
    ::close(dir);
    writer.abort();
    ::close(fds[1]);
}

AIO_REAL_TEST(Streams, StopListeningKeepsTheConnectionsServing) {
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    const auto port = server.port();
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write("accepted?\n");
    EXPECT_EQ(co_await reader.readline(), "accepted?\n");  // out of the backlog, which closing resets
    server.stop_listening();
    EXPECT_FALSE(server.is_serving());
    bool refused = false;
    try {
        auto streams = co_await aio::open_connection("127.0.0.1", port);
    } catch (const aio::ConnectionRefusedError&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
    writer.write("still here\n");
    EXPECT_EQ(co_await reader.readline(), "still here\n");
    EXPECT_EQ(server.connection_count(), 1u);
    server.close();  // now the handler is cancelled
    co_await server.wait_closed();
    EXPECT_EQ(server.connection_count(), 0u);
    writer.close();
}

AIO_REAL_TEST(Streams, KnownAddressesAreUsedWithoutResolving) {
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    const std::vector<aio::SocketAddress> known = {*aio::SocketAddress::parse("127.0.0.1", server.port())};
    aio::ConnectOptions options;
    options.addresses = known;
    // The name does not exist: only the given address can make this connect.
    auto [reader, writer] = co_await aio::open_connection("no-such-host.invalid", server.port(), options);
    writer.write("ping\n");
    EXPECT_EQ(co_await reader.readline(), "ping\n");
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}
