#include "aio/net/tls.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "aio/net/streams.hpp"
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

aio::SSLContext server_context(const aio::test::CertPair& pair) {
    auto ctx = aio::SSLContext::create_default_context(aio::Purpose::client_auth);
    ctx.load_cert_chain(pair.cert, pair.key);
    return ctx;
}

aio::SSLContext client_context() {
    auto ctx = aio::SSLContext::create_default_context();
    ctx.load_verify_locations(certs().ca_file);
    return ctx;
}

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

/// Opens a TLS connection and returns the error text it fails with ("" if it connected).
aio::Coro<std::string> connect_error(std::uint16_t port, aio::SSLContext ctx, std::string_view host) {
    aio::ConnectOptions opts;
    opts.ssl = &ctx;
    opts.server_hostname = host;
    try {
        auto [r, w] = co_await aio::open_connection("127.0.0.1", port, opts);
        w.write("ping\n");
        (void)co_await r.readline();
    } catch (const aio::SSLError& e) {
        co_return std::string(e.what());
    }
    co_return std::string();
}

}  // namespace

AIO_REAL_TEST(Tls, EchoWithVerifiedCertificate) {
    allow_openssl_steps(loop);
    auto sctx = server_context(certs().server);
    aio::ServerOptions sopts;
    sopts.ssl = &sctx;
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0, sopts);
    auto cctx = client_context();
    aio::ConnectOptions opts;
    opts.ssl = &cctx;
    opts.server_hostname = "localhost";
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), opts);
    writer.write("over TLS\n");
    EXPECT_EQ(co_await reader.readline(), "over TLS\n");
    std::string big;
    for (int i = 0; i < 1000; ++i) big += std::string(999, static_cast<char>('a' + i % 26)) + "\n";
    writer.write(big);  // 1 MB, both ways at once
    EXPECT_EQ(co_await reader.readexactly(big.size()), big);
    auto cert = std::any_cast<aio::PeerCertificate>(writer.get_extra_info("peercert"));
    EXPECT_EQ(cert.subject, "CN=localhost");
    EXPECT_EQ(cert.issuer, "CN=aiocpp test CA");
    EXPECT_NE(std::find(cert.subject_alt_names.begin(), cert.subject_alt_names.end(), "IP Address:127.0.0.1"),
              cert.subject_alt_names.end());
    EXPECT_EQ(std::any_cast<std::string>(writer.get_extra_info("tls_version")), "TLSv1.3");
    EXPECT_FALSE(std::any_cast<std::string>(writer.get_extra_info("cipher")).empty());
    EXPECT_TRUE(writer.get_extra_info("ssl_object").has_value());
    EXPECT_FALSE(writer.can_write_eof());
    EXPECT_THROW(writer.write_eof(), aio::RuntimeError);
    writer.close();  // sends close_notify: the server's readline sees a clean end of stream
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Tls, IpAddressIsVerifiedAgainstTheCertificate) {
    allow_openssl_steps(loop);
    auto sctx = server_context(certs().server);
    aio::ServerOptions sopts;
    sopts.ssl = &sctx;
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0, sopts);
    auto cctx = client_context();
    aio::ConnectOptions opts;
    opts.ssl = &cctx;  // server_hostname defaults to the host: the IP SAN must match
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), opts);
    writer.write("ip ok\n");
    EXPECT_EQ(co_await reader.readline(), "ip ok\n");
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Tls, BadCertificatesAreRejectedWithTheReasonAndHost) {
    allow_openssl_steps(loop);
    struct Case {
        const aio::test::CertPair* pair;
        std::string host;
        std::string reason;
        bool system_store;
    };
    const Case cases[] = {
        {&certs().server, "wrong.example", "hostname mismatch", false},
        {&certs().expired, "localhost", "certificate has expired", false},
        {&certs().self_signed, "localhost", "self-signed certificate", false},
        {&certs().server, "localhost", "unable to get local issuer certificate", true},
    };
    for (const Case& c : cases) {
        auto sctx = server_context(*c.pair);
        aio::ServerOptions sopts;
        sopts.ssl = &sctx;
        aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0, sopts);
        aio::SSLContext cctx = c.system_store ? aio::SSLContext::create_default_context() : client_context();
        std::string error = co_await connect_error(server.port(), cctx, c.host);
        EXPECT_NE(error.find("SSLCertVerificationError"), std::string::npos) << error;
        EXPECT_NE(error.find(c.reason), std::string::npos) << error;
        EXPECT_NE(error.find(c.host), std::string::npos) << error;
        server.close();
        co_await server.wait_closed();
        (void)loop.take_reports();  // debug mode reports the servers' failed handshakes
    }
}

AIO_REAL_TEST(Tls, AlpnPicksTheServersPreferenceAmongOffered) {
    allow_openssl_steps(loop);
    auto sctx = server_context(certs().server);
    sctx.set_alpn_protocols({"h2", "http/1.1"});
    aio::ServerOptions sopts;
    sopts.ssl = &sctx;
    std::string server_saw;
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Coro<> {
            server_saw = std::any_cast<std::string>(w.get_extra_info("alpn_protocol"));
            co_await echo_lines(std::move(r), std::move(w));
        },
        "127.0.0.1", 0, sopts);
    auto cctx = client_context();
    cctx.set_alpn_protocols({"http/1.1", "h2"});
    aio::ConnectOptions opts;
    opts.ssl = &cctx;
    opts.server_hostname = "localhost";
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), opts);
    EXPECT_EQ(std::any_cast<std::string>(writer.get_extra_info("alpn_protocol")), "h2");
    writer.write("x\n");
    (void)co_await reader.readline();
    EXPECT_EQ(server_saw, "h2");
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Tls, ClientCertificatesWhenTheServerRequiresThem) {
    allow_openssl_steps(loop);
    auto sctx = server_context(certs().server);
    sctx.load_verify_locations(certs().ca_file);
    sctx.set_verify_mode(aio::VerifyMode::required);
    aio::ServerOptions sopts;
    sopts.ssl = &sctx;
    std::string client_subject;
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Coro<> {
            client_subject = std::any_cast<aio::PeerCertificate>(w.get_extra_info("peercert")).subject;
            co_await echo_lines(std::move(r), std::move(w));
        },
        "127.0.0.1", 0, sopts);
    {
        auto cctx = client_context();
        cctx.load_cert_chain(certs().client.cert, certs().client.key);
        aio::ConnectOptions opts;
        opts.ssl = &cctx;
        opts.server_hostname = "localhost";
        auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), opts);
        writer.write("with cert\n");
        EXPECT_EQ(co_await reader.readline(), "with cert\n");
        EXPECT_EQ(client_subject, "CN=aiocpp test client");
        writer.close();
        co_await writer.wait_closed();
    }
    {
        // Without a certificate the server refuses (in TLS 1.3 the client learns it on its
        // first read).
        auto cctx = client_context();
        aio::ConnectOptions opts;
        opts.ssl = &cctx;
        opts.server_hostname = "localhost";
        bool refused = false;
        try {
            auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), opts);
            writer.write("no cert\n");
            std::string line = co_await reader.readline();
            refused = line.empty();
        } catch (const aio::SSLError& e) {
            refused = std::string(e.what()).find("certificate required") != std::string::npos;
        } catch (const aio::ConnectionResetError&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
    }
    server.close();
    co_await server.wait_closed();
    (void)loop.take_reports();
}

AIO_REAL_TEST(Tls, StartTlsUpgradesAPlainConnection) {
    allow_openssl_steps(loop);
    auto sctx = server_context(certs().server);
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Coro<> {
            if (co_await r.readline() != "STARTTLS\n") co_return;
            w.write("GO\n");
            co_await w.drain();
            co_await w.start_tls(sctx);
            co_await echo_lines(std::move(r), std::move(w));
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    writer.write("STARTTLS\n");
    EXPECT_EQ(co_await reader.readline(), "GO\n");
    auto cctx = client_context();
    co_await writer.start_tls(cctx, "localhost");
    writer.write("secret\n");
    EXPECT_EQ(co_await reader.readline(), "secret\n");
    EXPECT_EQ(std::any_cast<std::string>(writer.get_extra_info("tls_version")), "TLSv1.3");
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Tls, HandshakeTimeoutNamesThePeer) {
    allow_openssl_steps(loop);
    aio::Event done;
    aio::Server server = co_await aio::start_server(
        [&](aio::StreamReader, aio::StreamWriter) -> aio::Coro<> { co_await done.wait(); },  // never speaks TLS
        "127.0.0.1", 0);
    auto cctx = client_context();
    aio::ConnectOptions opts;
    opts.ssl = &cctx;
    opts.server_hostname = "localhost";
    opts.ssl_handshake_timeout = 100ms;
    std::string error;
    try {
        (void)co_await aio::open_connection("127.0.0.1", server.port(), opts);
    } catch (const aio::TimeoutError& e) {
        error = e.what();
    }
    EXPECT_NE(error.find("TLS handshake with 127.0.0.1:" + std::to_string(server.port())), std::string::npos) << error;
    done.set();
    server.close();
    co_await server.wait_closed();
}

AIO_REAL_TEST(Tls, PlaintextClientIsDroppedAndTheServerGoesOn) {
    allow_openssl_steps(loop);
    auto sctx = server_context(certs().server);
    aio::ServerOptions sopts;
    sopts.ssl = &sctx;
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0, sopts);
    {
        auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
        writer.write("GET / HTTP/1.0\r\n\r\n");
        std::string got;
        try {
            got = co_await reader.read();
        } catch (const aio::ConnectionResetError&) {
        }
        EXPECT_EQ(got.find("GET"), std::string::npos);  // never echoed in clear
    }
    auto cctx = client_context();
    EXPECT_EQ(co_await connect_error(server.port(), cctx, "localhost"), "");
    server.close();
    co_await server.wait_closed();
    auto reports = loop.take_reports();
    for (const auto& r : reports) EXPECT_EQ(r.message, "SSL handshake failed");
}

TEST(SSLContext, MisuseGetsClearErrors) {
    auto ctx = aio::SSLContext::create_default_context();
    EXPECT_THROW(ctx.set_verify_mode(aio::VerifyMode::none), aio::ValueError);
    ctx.set_check_hostname(false);
    ctx.set_verify_mode(aio::VerifyMode::none);
    EXPECT_EQ(ctx.verify_mode(), aio::VerifyMode::none);
    try {
        ctx.load_cert_chain("/nonexistent/cert.pem");
        ADD_FAILURE() << "no error";
    } catch (const aio::OSError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos);
    }
    auto server = aio::SSLContext::create_default_context(aio::Purpose::client_auth);
    try {
        server.load_cert_chain(certs().server.cert, certs().client.key);
        ADD_FAILURE() << "no error";
    } catch (const aio::SSLError& e) {
        EXPECT_NE(std::string(e.what()).find("does not match the certificate"), std::string::npos) << e.what();
    }
    EXPECT_THROW(ctx.set_alpn_protocols({""}), aio::ValueError);
    EXPECT_THROW(ctx.set_ciphers("NO-SUCH-CIPHER"), aio::SSLError);
}

AIO_REAL_TEST(Tls, SendfileGoesThroughTls) {
    allow_openssl_steps(loop);
    std::string content;
    for (int i = 0; i < 3000; ++i) content += std::string(99, static_cast<char>('a' + i % 26)) + "\n";
    char tmpl[] = "/tmp/aiocpp-tls-sendfile-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    CO_ASSERT_GE(fd, 0);
    ::unlink(tmpl);
    CO_ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    auto sctx = server_context(certs().server);
    aio::ServerOptions sopts;
    sopts.ssl = &sctx;
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0, sopts);
    auto cctx = client_context();
    aio::ConnectOptions opts;
    opts.ssl = &cctx;
    opts.server_hostname = "localhost";
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), opts);
    auto echoed = aio::create_task(reader.readexactly(content.size() - 100));
    EXPECT_EQ(co_await writer.sendfile(fd, 100, content.size()), content.size() - 100);
    EXPECT_TRUE(co_await echoed == content.substr(100)) << "the echoed bytes differ";
    ::close(fd);
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}
