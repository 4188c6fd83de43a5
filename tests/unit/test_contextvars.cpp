#include "aio/contextvars.hpp"

#include <string>
#include <vector>

#include "aio/sleep.hpp"
#include "aio/tasks.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {
aio::ContextVar<std::string> request_id("request_id", std::string("-"));
aio::ContextVar<int> depth("depth");

aio::Coro<std::string> log_line(std::string what) {
    co_await aio::sleep(1ms);
    co_return request_id.get() + ": " + what;
}

aio::Coro<std::string> handle(std::string id) {
    request_id.set(id);
    co_await aio::sleep(std::chrono::milliseconds(id.size()));
    co_return co_await log_line("handled");  // a plain await shares the task's context
}
}  // namespace

AIO_TEST(ContextVar, EachTaskSeesItsOwnValue) {
    auto [a, b] = co_await aio::gather(handle("req-1"), handle("req-22"));
    EXPECT_EQ(a, "req-1: handled");
    EXPECT_EQ(b, "req-22: handled");
    EXPECT_EQ(request_id.get(), "-");  // the children's set() is invisible here
}

AIO_TEST(ContextVar, ChildTasksStartWithACopyOfTheCreatorsContext) {
    auto token = request_id.set("parent");
    auto child = aio::create_task([]() -> aio::Coro<std::string> {
        std::string seen = request_id.get();
        request_id.set("child");  // does not leak back
        co_return seen;
    }());
    EXPECT_EQ(co_await child, "parent");
    EXPECT_EQ(request_id.get(), "parent");
    request_id.reset(token);
    EXPECT_EQ(request_id.get(), "-");
}

AIO_TEST(ContextVar, NoValueNoDefaultIsALookupError) {
    EXPECT_THROW((void)depth.get(), std::out_of_range);
    EXPECT_EQ(depth.get(7), 7);
    auto t = depth.set(1);
    EXPECT_EQ(depth.get(), 1);
    depth.reset(t);
    EXPECT_THROW((void)depth.get(), std::out_of_range);
    co_return;
}

AIO_TEST(ContextVar, ManySetsKeepTheChainShort) {
    for (int i = 0; i < 10'000; ++i) depth.set(i);
    EXPECT_EQ(depth.get(), 9'999);
    EXPECT_EQ(request_id.get(), "-");
    int chain = 0;
    for (auto* n = aio::detail::current_context().get(); n; n = n->parent.get()) ++chain;
    EXPECT_LE(chain, 33);
    co_return;
}
