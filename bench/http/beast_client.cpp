// HTTP client benchmark program on Boost.Beast: CONCURRENCY connections on one io_context thread,
// each a C++20 coroutine (Asio's use_awaitable) making requests one after the other; see
// bench/http/README.md.
//
//     beast_client PORT REQUESTS CONCURRENCY
//
// Client protocol: set up, print "ready", wait for a line on stdin, make REQUESTS GETs of
// http://127.0.0.1:PORT/ spread over the connections (each takes the next request from a shared
// count), check each status is 200 and each body is 27 bytes, print one JSON line, then wait for
// the end of stdin and exit. Connections are opened inside the measured window, as the pools of the
// other clients do.
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using net::ip::tcp;

constexpr std::size_t kBodyLength = 27;  // {"message":"Hello, World!"}

struct State {
  long todo = 0;
  long failed = 0;
  std::string first_error;
  std::vector<tcp::socket> finished;  // closed only after the measured window, as the other pools do

  void fail(std::string what) {
    if (failed++ == 0)
      first_error = std::move(what);
  }
};

static net::awaitable<void> connection(tcp::endpoint endpoint, State& state) {
  try {
    tcp::socket socket(co_await net::this_coro::executor);
    co_await socket.async_connect(endpoint, net::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    http::request<http::empty_body> req{http::verb::get, "/", 11};
    req.set(http::field::host, endpoint.address().to_string() + ":" + std::to_string(endpoint.port()));
    beast::flat_buffer buffer;
    while (state.todo > 0) {
      --state.todo;
      co_await http::async_write(socket, req, net::use_awaitable);
      http::response<http::string_body> res;
      co_await http::async_read(socket, buffer, res, net::use_awaitable);
      if (res.result_int() != 200 || res.body().size() != kBodyLength)
        state.fail("status " + std::to_string(res.result_int()) + ", " + std::to_string(res.body().size()) +
                   " body bytes");
      if (!res.keep_alive()) {
        state.fail("the server closed a keep-alive connection");
        break;
      }
    }
    state.finished.push_back(std::move(socket));
  } catch (const std::exception& e) {
    state.fail(e.what());
  }
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fputs("usage: beast_client PORT REQUESTS CONCURRENCY\n", stderr);
    return 2;
  }
  long args[3];
  for (int i = 0; i < 3; ++i) {
    char* end;
    args[i] = std::strtol(argv[i + 1], &end, 10);
    if (*end || end == argv[i + 1] || args[i] <= 0) {
      std::fprintf(stderr, "beast_client: bad argument '%s'\n", argv[i + 1]);
      return 2;
    }
  }
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  net::io_context ioc(1);
  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(args[0]));
  State state;
  state.todo = args[1];

  std::puts("ready");
  std::fflush(stdout);
  std::string line;
  std::getline(std::cin, line);

  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < args[2]; ++i)
    net::co_spawn(ioc, connection(endpoint, state), net::detached);
  ioc.run();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"requests\":%ld,\"failed\":%ld,\"seconds\":%.6f,\"rps\":%.1f}\n", args[1], state.failed,
              elapsed, static_cast<double>(args[1]) / elapsed);
  std::fflush(stdout);
  if (state.failed)
    std::fprintf(stderr, "beast_client: %ld failed requests, first: %s\n", state.failed,
                 state.first_error.c_str());
  while (std::getline(std::cin, line)) {
  }
  return state.failed ? 1 : 0;
}
