// HTTP/1.1 JSON server on Boost.Beast: one io_context thread, C++20 coroutines (Asio's
// use_awaitable), an accept loop and a read/write loop per connection; see bench/http/README.md.
//
//     beast_server PORT
//
// Every request gets {"message":"Hello, World!"} serialized by nlohmann::json, Content-Type
// application/json, a Date header formatted at most once per second, and keep-alive when the
// request allows it. Pipelined requests are read one after the other from the connection's buffer.
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using net::ip::tcp;

static const std::string& date_header() {
  static std::time_t last = -1;
  static std::string value;
  std::time_t now = std::time(nullptr);
  if (now != last) {
    last = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    value = buf;
  }
  return value;
}

static net::awaitable<void> session(tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    co_await http::async_read(socket, buffer, req, net::redirect_error(net::use_awaitable, ec));
    if (ec)
      break;  // end of stream, reset or a bad request: the connection is done
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::date, date_header());
    res.keep_alive(req.keep_alive());
    res.body() = nlohmann::json{{"message", "Hello, World!"}}.dump();
    res.prepare_payload();
    co_await http::async_write(socket, res, net::redirect_error(net::use_awaitable, ec));
    if (ec || !res.keep_alive())
      break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

static net::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    beast::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      std::fprintf(stderr, "beast_server: accept: %s\n", ec.message().c_str());
      continue;
    }
    net::co_spawn(acceptor.get_executor(), session(std::move(socket)), net::detached);
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: beast_server PORT\n", stderr);
    return 2;
  }
  char* end;
  long port = std::strtol(argv[1], &end, 10);
  if (*end || end == argv[1] || port < 0 || port > 65535) {
    std::fprintf(stderr, "beast_server: bad port '%s'\n", argv[1]);
    return 2;
  }
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  try {
    net::io_context ioc(1);
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));
    tcp::acceptor acceptor(ioc);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(4096);
    std::puts("ready");
    std::fflush(stdout);
    net::co_spawn(ioc, accept_loop(acceptor), net::detached);
    ioc.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "beast_server: %s\n", e.what());
    return 1;
  }
}
