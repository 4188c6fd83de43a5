// TCP echo server: standalone Asio C++20 coroutines on one io_context thread; see bench/echo/README.md.
//
//     asio_server PORT [--tls CERT KEY]
//
// --tls (built with -DECHO_TLS -lssl -lcrypto): each connection is an asio::ssl::stream whose
// async_handshake runs before the same read/write loop.
#include <asio.hpp>
#ifdef ECHO_TLS
#include <asio/ssl.hpp>
#endif

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

constexpr std::size_t kBufferSize = 64 * 1024;

// The read/write loop, over a tcp::socket or an ssl::stream.
template <class Stream>
static awaitable<void> echo_loop(Stream& stream) {
  auto buf = std::make_unique_for_overwrite<char[]>(kBufferSize);
  try {
    for (;;) {
      std::size_t n = co_await stream.async_read_some(asio::buffer(buf.get(), kBufferSize), use_awaitable);
      co_await asio::async_write(stream, asio::buffer(buf.get(), n), use_awaitable);
    }
  } catch (const std::exception&) {
    // end of stream or reset: the connection is done
  }
}

static awaitable<void> echo(tcp::socket socket) {
  socket.set_option(tcp::no_delay(true));
  co_await echo_loop(socket);
}

#ifdef ECHO_TLS
static std::optional<asio::ssl::context> tls_context;  // set with --tls

static awaitable<void> echo_tls(tcp::socket socket) {
  socket.set_option(tcp::no_delay(true));
  asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls_context);
  try {
    co_await stream.async_handshake(asio::ssl::stream_base::server, use_awaitable);
  } catch (const std::exception&) {
    co_return;  // a failed handshake just ends the connection
  }
  co_await echo_loop(stream);
}
#endif

static awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    asio::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      std::fprintf(stderr, "asio_server: accept: %s\n", ec.message().c_str());
      continue;
    }
#ifdef ECHO_TLS
    if (tls_context) {
      asio::co_spawn(acceptor.get_executor(), echo_tls(std::move(socket)), asio::detached);
      continue;
    }
#endif
    asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
  }
}

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 5 && std::strcmp(argv[2], "--tls") == 0)) {
    std::fputs("usage: asio_server PORT [--tls CERT KEY]\n", stderr);
    return 2;
  }
#ifndef ECHO_TLS
  if (argc == 5) {
    std::fputs("asio_server: --tls: built without TLS (build with -DECHO_TLS -lssl -lcrypto)\n", stderr);
    return 2;
  }
#endif
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  try {
#ifdef ECHO_TLS
    if (argc == 5) {
      tls_context.emplace(asio::ssl::context::tls_server);
      tls_context->use_certificate_chain_file(argv[3]);
      tls_context->use_private_key_file(argv[4], asio::ssl::context::pem);
    }
#endif
    asio::io_context ctx(1);
    tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"),
                           static_cast<unsigned short>(std::stoul(argv[1])));
    tcp::acceptor acceptor(ctx);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(4096);
    asio::co_spawn(ctx, accept_loop(acceptor), asio::detached);
    std::puts("ready");
    std::fflush(stdout);
    ctx.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_server: %s\n", e.what());
    return 1;
  }
}
