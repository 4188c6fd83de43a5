// A TLS client with certificate verification on, talking to a local TLS server whose
// certificate is made with the openssl tool (ssl.create_default_context in asyncio).
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>

#include <unistd.h>

aio::Coro<> greet(aio::StreamReader reader, aio::StreamWriter writer) {
    std::string name = co_await reader.readline();
    writer.write("hello, " + name);
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

aio::Coro<int> amain(std::string cert, std::string key) {
    auto server_ctx = aio::SSLContext::create_default_context(aio::Purpose::client_auth);
    server_ctx.load_cert_chain(cert, key);
    aio::ServerOptions server_opts;
    server_opts.ssl = &server_ctx;
    aio::Server server = co_await aio::start_server(greet, "127.0.0.1", 0, server_opts);

    auto ctx = aio::SSLContext::create_default_context();  // verifies, checks the host name
    ctx.load_verify_locations(cert);                        // trust our self-made certificate
    aio::ConnectOptions opts;
    opts.ssl = &ctx;
    opts.server_hostname = "localhost";
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), opts);
    auto peer = std::any_cast<aio::PeerCertificate>(writer.get_extra_info("peercert"));
    fmt::print("{} with {}, server is {}\n", std::any_cast<std::string>(writer.get_extra_info("tls_version")),
               std::any_cast<std::string>(writer.get_extra_info("cipher")), peer.subject);
    writer.write("aiocpp\n");
    fmt::print("{}", co_await reader.readline());

    // The system's CA store does not know our certificate: the error says why and for whom.
    auto system_ctx = aio::SSLContext::create_default_context();
    opts.ssl = &system_ctx;
    try {
        (void)co_await aio::open_connection("127.0.0.1", server.port(), opts);
    } catch (const aio::SSLCertVerificationError& e) {
        fmt::print("{}\n", e.what());
    }
    server.close();
    co_await server.wait_closed();
    co_return 0;
}

int main() {
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("aiocpp-tls-example-{}", ::getpid());
    std::filesystem::create_directories(dir);
    const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
    const std::string make_cert = fmt::format(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost -keyout {} -out {} 2>/dev/null",
        key, cert);
    int status = std::system(make_cert.c_str()) == 0 ? aio::run(amain(cert, key)) : 1;
    std::filesystem::remove_all(dir);
    return status;
}
