// TCP echo server: standalone Asio C++20 coroutines on one io_context thread; see bench/echo/README.md.
//
//     asio_server PORT
#include <asio.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

constexpr std::size_t kBufferSize = 64 * 1024;

static awaitable<void> echo(tcp::socket socket) {
  socket.set_option(tcp::no_delay(true));
  auto buf = std::make_unique_for_overwrite<char[]>(kBufferSize);
  try {
    for (;;) {
      std::size_t n = co_await socket.async_read_some(asio::buffer(buf.get(), kBufferSize), use_awaitable);
      co_await asio::async_write(socket, asio::buffer(buf.get(), n), use_awaitable);
    }
  } catch (const std::exception&) {
    // end of stream or reset: the connection is done
  }
}

static awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    asio::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      std::fprintf(stderr, "asio_server: accept: %s\n", ec.message().c_str());
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: asio_server PORT\n", stderr);
    return 2;
  }
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  try {
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
