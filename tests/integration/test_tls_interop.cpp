// TLS against OpenSSL's own tools: our client with `openssl s_server`, and `openssl
// s_client` with our server, each verifying the other's certificate.
#include <string>
#include <vector>

#include "aio/net/sockets.hpp"
#include "aio/net/streams.hpp"
#include "aio/net/subprocess.hpp"
#include "aio/net/tls.hpp"
#include "test_loop.hpp"
#include "tls_certs.hpp"

using namespace std::chrono_literals;

namespace {

aio::test::TestCertificates& certs() {
    static aio::test::TestCertificates c;
    return c;
}
// Made before any test runs: key generation inside a test's first step would be a slow
// step in debug mode (notably under sanitizers).
[[maybe_unused]] const aio::test::TestCertificates& made_at_startup = certs();

/// Loading the system CA store or a certificate chain takes one step of a few tens of ms,
/// which sanitizers can stretch past debug mode's 100 ms slow-step report.
void allow_openssl_steps(aio::test::TestLoop& loop) { loop.loop().slow_callback_duration = std::chrono::seconds(2); }

std::uint16_t free_port() {
    aio::Socket s(AF_INET, SOCK_STREAM);
    s.bind(*aio::SocketAddress::parse("127.0.0.1", 0));
    return s.sockname().port();
}

/// Reads lines from `r` until one equals `want`; false at end of stream.
aio::Coro<bool> wait_for_line(aio::StreamReader& r, std::string want) {
    for (;;) {
        std::string line = co_await r.readline();
        if (line.empty()) co_return false;
        if (line == want) co_return true;
    }
}

}  // namespace

AIO_REAL_TEST(TlsInterop, OurClientWithOpensslServer) {
    allow_openssl_steps(loop);
    const std::uint16_t port = free_port();
    std::vector<std::string> args{"s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
                                  certs().server.cert, "-key", certs().server.key, "-rev"};
    aio::SubprocessOptions opts;
    opts.stdout_ = aio::Redirect::pipe;
    opts.stderr_ = aio::Redirect::devnull;
    aio::Process server = co_await aio::create_subprocess_exec("openssl", args, opts);
    const bool ready = co_await aio::wait_for(wait_for_line(server.stdout_(), "ACCEPT\n"), 30s);
    CO_ASSERT_TRUE(ready);

    auto ctx = aio::SSLContext::create_default_context();
    ctx.load_verify_locations(certs().ca_file);
    aio::ConnectOptions copts;
    copts.ssl = &ctx;
    copts.server_hostname = "localhost";
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port, copts);
    writer.write("hello openssl\n");
    EXPECT_EQ(co_await aio::wait_for(reader.readline(), 30s), "lssnepo olleh\n");  // -rev reverses lines
    EXPECT_EQ(std::any_cast<std::string>(writer.get_extra_info("tls_version")), "TLSv1.3");
    EXPECT_EQ(std::any_cast<aio::PeerCertificate>(writer.get_extra_info("peercert")).subject, "CN=localhost");
    writer.close();
    co_await writer.wait_closed();
    server.kill();
    (void)co_await server.wait();
}

AIO_REAL_TEST(TlsInterop, OpensslClientWithOurServer) {
    allow_openssl_steps(loop);
    auto sctx = aio::SSLContext::create_default_context(aio::Purpose::client_auth);
    sctx.load_cert_chain(certs().server.cert, certs().server.key);
    aio::ServerOptions sopts;
    sopts.ssl = &sctx;
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader r, aio::StreamWriter w) -> aio::Coro<> {
            for (std::string line = co_await r.readline(); !line.empty(); line = co_await r.readline()) {
                w.write("echo: " + line);
                co_await w.drain();
            }
            w.close();
            co_await w.wait_closed();
        },
        "127.0.0.1", 0, sopts);
    // -verify_return_error: a certificate s_client cannot verify for "localhost" fails it.
    std::vector<std::string> args{"s_client", "-connect", "127.0.0.1:" + std::to_string(server.port()),
                                  "-CAfile", certs().ca_file, "-servername", "localhost",
                                  "-verify_hostname", "localhost", "-verify_return_error", "-quiet", "-no_ign_eof"};
    aio::SubprocessOptions opts;
    opts.stdin_ = aio::Redirect::pipe;
    opts.stdout_ = aio::Redirect::pipe;
    opts.stderr_ = aio::Redirect::pipe;
    aio::Process client = co_await aio::create_subprocess_exec("openssl", args, opts);
    // Answers first, then end of input: s_client quits at the end of its stdin.
    client.stdin_().write("first\nsecond\n");
    co_await client.stdin_().drain();
    EXPECT_EQ(co_await aio::wait_for(client.stdout_().readline(), 30s), "echo: first\n");
    EXPECT_EQ(co_await aio::wait_for(client.stdout_().readline(), 30s), "echo: second\n");
    client.stdin_().close();
    std::string err = co_await aio::wait_for(client.stderr_().read(), 30s);
    EXPECT_EQ(co_await client.wait(), 0) << err;
    EXPECT_NE(err.find("verify return:1"), std::string::npos) << err;
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(TlsInterop, OpensslClientRejectsAWrongHostName) {
    allow_openssl_steps(loop);
    auto sctx = aio::SSLContext::create_default_context(aio::Purpose::client_auth);
    sctx.load_cert_chain(certs().server.cert, certs().server.key);
    aio::ServerOptions sopts;
    sopts.ssl = &sctx;
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader r, aio::StreamWriter) -> aio::Coro<> { (void)co_await r.read(); }, "127.0.0.1", 0, sopts);
    std::vector<std::string> args{"s_client", "-connect", "127.0.0.1:" + std::to_string(server.port()),
                                  "-CAfile", certs().ca_file, "-verify_hostname", "wrong.example",
                                  "-verify_return_error", "-quiet", "-no_ign_eof"};
    aio::SubprocessOptions opts;
    opts.stdin_ = aio::Redirect::pipe;
    opts.stdout_ = aio::Redirect::devnull;
    opts.stderr_ = aio::Redirect::pipe;
    aio::Process client = co_await aio::create_subprocess_exec("openssl", args, opts);
    auto [out, err] = co_await aio::wait_for(client.communicate(""), 30s);
    EXPECT_NE(co_await client.wait(), 0);
    EXPECT_NE(err.find("hostname mismatch"), std::string::npos) << err;
    server.close();
    co_await server.wait_closed();
    (void)loop.take_reports();  // debug mode reports the failed handshake
}
