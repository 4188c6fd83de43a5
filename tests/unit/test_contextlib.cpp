#include "aio/contextlib.hpp"

#include <string>
#include <vector>

#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "aio/timeouts.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

/// A connection-like resource whose open and close must be awaited.
struct Connection {
    std::vector<std::string>* log;
    bool suppress = false;
    aio::Coro<Connection*> aenter() {
        co_await aio::sleep(1ms);
        log->push_back("open");
        co_return this;
    }
    aio::Coro<bool> aexit(std::exception_ptr e) {
        co_await aio::sleep(1ms);  // async close
        log->push_back(e ? (aio::is_cancelled(e) ? "close(cancelled)" : "close(error)") : "close");
        co_return suppress;
    }
};

}  // namespace

AIO_TEST(AsyncWith, ExitIsAwaitedOnSuccess) {
    std::vector<std::string> log;
    Connection c{&log};
    int v = co_await aio::async_with(c, [&](Connection* conn) -> aio::Coro<int> {
        EXPECT_EQ(conn, &c);
        log.push_back("use");
        co_return 5;
    });
    EXPECT_EQ(v, 5);
    EXPECT_EQ(log, (std::vector<std::string>{"open", "use", "close"}));
}

AIO_TEST(AsyncWith, ExitSeesTheErrorAndCanSuppressIt) {
    std::vector<std::string> log;
    Connection c{&log};
    EXPECT_THROW(co_await aio::async_with(c, [](Connection*) -> aio::Coro<> { throw std::runtime_error("x"); }),
                 std::runtime_error);
    Connection quiet{&log, true};
    co_await aio::async_with(quiet, [](Connection*) -> aio::Coro<> { throw std::runtime_error("y"); });
    EXPECT_EQ(log, (std::vector<std::string>{"open", "close(error)", "open", "close(error)"}));
}

AIO_TEST(AsyncWith, ExitIsAwaitedWhenCancelledAndCancellationIsNeverSuppressed) {
    std::vector<std::string> log;
    Connection c{&log, true};
    auto t = aio::create_task([&]() -> aio::Coro<> {
        co_await aio::async_with(c, [](Connection*) -> aio::Coro<> { co_await aio::sleep(1h); });
    });
    co_await aio::sleep(5ms);
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_EQ(log, (std::vector<std::string>{"open", "close(cancelled)"}));
}

AIO_TEST(Finally, CleanupRunsOnEveryPath) {
    int cleanups = 0;
    auto cleanup = [&]() -> aio::Coro<> {
        co_await aio::sleep(1ms);
        ++cleanups;
    };
    EXPECT_EQ(co_await aio::finally([]() -> aio::Coro<int> { co_return 1; }, cleanup), 1);
    EXPECT_THROW(co_await aio::finally([]() -> aio::Coro<> { throw std::logic_error("e"); }, cleanup), std::logic_error);
    auto t = aio::create_task([&]() -> aio::Coro<> { co_await aio::finally([] { return aio::sleep(1h); }, cleanup); });
    co_await aio::sleep(1ms);
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_EQ(cleanups, 3);
}

AIO_TEST(Shielded, CancelDuringTheBodyIsDeferredUntilItEnds) {
    std::vector<std::string> log;
    auto t = aio::create_task([&]() -> aio::Coro<> {
        co_await aio::shielded([&]() -> aio::Coro<> {
            co_await aio::sleep(10ms);  // not interrupted
            log.push_back("rollback done");
        });
        log.push_back("after shield");
        co_await aio::sleep(1ms);  // the deferred cancel lands here
        log.push_back("unreachable");
    });
    co_await aio::sleep(2ms);
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_EQ(log, (std::vector<std::string>{"rollback done", "after shield"}));
    EXPECT_EQ(loop.elapsed(), 10ms);
}

AIO_TEST(Shielded, CleanupAfterCancellationCanAwait) {
    bool closed = false;
    auto t = aio::create_task([&]() -> aio::Coro<> {
        std::exception_ptr cancelled;
        try {
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
            cancelled = std::current_exception();
        }
        co_await aio::shielded([&]() -> aio::Coro<> {
            co_await aio::sleep(5ms);
            closed = true;
        });
        std::rethrow_exception(cancelled);
    });
    co_await aio::sleep(1ms);
    t.cancel();
    co_await aio::sleep(1ms);
    t.cancel();  // a second cancel during the cleanup does not interrupt it
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_TRUE(closed);
}

AIO_TEST(AsyncExitStack, ExitsInReverseOrderWithTheCurrentException) {
    std::vector<std::string> log;
    Connection a{&log}, b{&log};
    aio::AsyncExitStack stack;
    co_await aio::async_with(stack, [&](aio::AsyncExitStack* s) -> aio::Coro<> {
        co_await s->enter_async_context(a);
        s->push_async_callback([&]() -> aio::Coro<> {
            log.push_back("callback");
            co_return;
        });
        co_await s->enter_async_context(b);
        log.push_back("body");
    });
    EXPECT_EQ(log, (std::vector<std::string>{"open", "open", "body", "close", "callback", "close"}));
}

AIO_TEST(AsyncExitStack, ErrorInAnExitReplacesTheCurrentOne) {
    aio::AsyncExitStack stack;
    int ran = 0;
    stack.push_async_callback([&]() -> aio::Coro<> {
        ++ran;
        co_return;
    });
    stack.push_async_callback([&]() -> aio::Coro<> {
        ++ran;
        throw std::runtime_error("exit failed");
    });
    EXPECT_THROW(co_await stack.aclose(), std::runtime_error);
    EXPECT_EQ(ran, 2);  // the earlier exit still ran
}
