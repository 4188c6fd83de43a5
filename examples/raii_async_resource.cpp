// asyncio tutorial: "async with" for a resource whose close must be awaited (a DB
// connection, an HTTP session) — the async close runs on success, error and cancel.
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <exception>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

int open_connections = 0;

class Connection {
public:
    explicit Connection(std::string name) : name_(std::move(name)) {}
    aio::Coro<> open() {
        co_await aio::sleep(10ms);  // handshake
        ++open_connections;
        fmt::print("  {}: opened\n", name_);
    }
    aio::Coro<> close() {
        co_await aio::sleep(10ms);  // goodbye message, flush
        --open_connections;
        fmt::print("  {}: closed\n", name_);
    }
    aio::Coro<std::string> query(std::string sql, std::chrono::milliseconds took) {
        co_await aio::sleep(took);
        if (sql.starts_with("BAD")) throw std::runtime_error("syntax error in '" + sql + "'");
        co_return "rows for '" + sql + "'";
    }
private:
    std::string name_;
};

// `async with Connection(name) as conn: await body(conn)` — the close is awaited on every path.
template <class F>
aio::Coro<> with_connection(std::string name, F body) {
    Connection conn(name);
    co_await conn.open();
    std::exception_ptr error;
    try {
        co_await body(conn);
    } catch (...) {  // includes CancelledError: catch, clean up, re-raise
        error = std::current_exception();
    }
    co_await conn.close();
    if (error) std::rethrow_exception(error);
}

aio::Coro<int> amain() {
    fmt::print("success:\n");
    auto good = [](Connection& c) -> aio::Coro<> { fmt::print("  {}\n", co_await c.query("SELECT 1", 10ms)); };
    co_await with_connection("db-1", good);

    fmt::print("error:\n");
    auto bad = [](Connection& c) -> aio::Coro<> { co_await c.query("BAD SQL", 10ms); };
    try {
        co_await with_connection("db-2", bad);
    } catch (const std::runtime_error& e) {
        fmt::print("  caught: {}\n", e.what());
    }

    fmt::print("cancellation:\n");
    auto slow = [](Connection& c) -> aio::Coro<> { co_await c.query("SELECT pg_sleep(10)", 10s); };
    aio::Task<> task = aio::create_task(with_connection("db-3", slow));
    co_await aio::sleep(30ms);
    task.cancel();
    try {
        co_await task;
    } catch (const aio::CancelledError&) {
        fmt::print("  task cancelled\n");
    }

    fmt::print("open connections left: {}\n", open_connections);
    co_return open_connections == 0 ? 0 : 1;
}

int main() { return aio::run(amain()); }
