#include "aio/taskgroups.hpp"

#include <string>
#include <vector>

#include "aio/sleep.hpp"
#include "aio/timeouts.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {
aio::Coro<int> value_after(int v, std::chrono::milliseconds d, std::vector<int>* log = nullptr) {
    co_await aio::sleep(d);
    if (log) log->push_back(v);
    co_return v;
}
aio::Coro<int> fail_after(std::chrono::milliseconds d, std::string what) {
    co_await aio::sleep(d);
    throw std::runtime_error(what);
}
}  // namespace

AIO_TEST(TaskGroup, WaitsForAllChildren) {
    std::vector<int> done;
    aio::Task<int> a, b;
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<> {
        a = tg.create_task(value_after(1, 20ms, &done));
        b = tg.create_task(value_after(2, 10ms, &done));
        co_return;
    });
    EXPECT_EQ(done, (std::vector<int>{2, 1}));
    EXPECT_EQ(a.result() + b.result(), 3);
    EXPECT_EQ(loop.elapsed(), 20ms);
}

AIO_TEST(TaskGroup, ReturnsTheBodyResult) {
    int v = co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Coro<int> {
        tg.create_task(value_after(1, 5ms));
        co_return 42;
    });
    EXPECT_EQ(v, 42);
}

AIO_TEST(TaskGroup, FirstFailureCancelsSiblingsAndBodyAndAllErrorsAreCollected) {
    bool sibling_cancelled = false, body_cancelled = false;
    try {
        co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<> {
            tg.create_task(fail_after(10ms, "first"));
            tg.create_task(fail_after(10ms, "second"));
            tg.create_task([&]() -> aio::Coro<> {
                try {
                    co_await aio::sleep(1h);
                } catch (const aio::CancelledError&) {
                    sibling_cancelled = true;
                    throw;
                }
            });
            try {
                co_await aio::sleep(1h);
            } catch (const aio::CancelledError&) {
                body_cancelled = true;
                throw;
            }
        });
        ADD_FAILURE() << "expected ExceptionGroup";
    } catch (const aio::ExceptionGroup& eg) {
        EXPECT_EQ(eg.exceptions().size(), 2u);
        EXPECT_TRUE(eg.contains<std::runtime_error>());
        EXPECT_EQ(eg.message(), "unhandled errors in a TaskGroup");
        auto [match, rest] = eg.split<std::runtime_error>();
        EXPECT_TRUE(match.has_value());
        EXPECT_FALSE(rest.has_value());
    }
    EXPECT_TRUE(sibling_cancelled);
    EXPECT_TRUE(body_cancelled);
    EXPECT_EQ(loop.elapsed(), 10ms);
    // The parent task was only cancelled by the group: it is not left cancelled.
    EXPECT_EQ(aio::current_task().cancelling(), 0);
    co_await aio::sleep(1ms);  // and can keep awaiting
}

AIO_TEST(TaskGroup, BodyErrorCancelsChildrenAndJoinsTheGroup) {
    bool child_cancelled = false;
    try {
        co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<> {
            tg.create_task([&]() -> aio::Coro<> {
                try {
                    co_await aio::sleep(1h);
                } catch (const aio::CancelledError&) {
                    child_cancelled = true;
                    throw;
                }
            });
            co_await aio::sleep(1ms);
            throw std::logic_error("body failed");
        });
    } catch (const aio::ExceptionGroup& eg) {
        EXPECT_TRUE(eg.contains<std::logic_error>());
    }
    EXPECT_TRUE(child_cancelled);
}

AIO_TEST(TaskGroup, ExternalCancelCancelsChildrenAndStaysCancelled) {
    bool child_cancelled = false;
    auto parent = aio::create_task([&]() -> aio::Coro<> {
        co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<> {
            tg.create_task([&]() -> aio::Coro<> {
                try {
                    co_await aio::sleep(1h);
                } catch (const aio::CancelledError&) {
                    child_cancelled = true;
                    throw;
                }
            });
            co_return;
        });
    });
    co_await aio::sleep(5ms);
    parent.cancel();
    EXPECT_THROW(co_await parent, aio::CancelledError);
    EXPECT_TRUE(parent.cancelled());
    EXPECT_TRUE(child_cancelled);
}

AIO_TEST(TaskGroup, TimeoutAroundAGroupIsATimeoutNotAGroupError) {
    EXPECT_THROW(co_await aio::timeout(10ms,
                                       []() -> aio::Coro<> {
                                           co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Coro<> {
                                               tg.create_task(value_after(1, 1h));
                                               co_return;
                                           });
                                       }),
                 aio::TimeoutError);
    EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(TaskGroup, GroupInsideTimeoutWithFailingChildRaisesGroup) {
    EXPECT_THROW(co_await aio::timeout(1h,
                                       []() -> aio::Coro<> {
                                           co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Coro<> {
                                               tg.create_task(fail_after(5ms, "x"));
                                               co_await aio::sleep(1h);
                                           });
                                       }),
                 aio::ExceptionGroup);
}

AIO_TEST(TaskGroup, CreateTaskAfterExitIsAnError) {
    aio::TaskGroup* leaked = nullptr;
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<> {
        leaked = &tg;
        co_return;
    });
    (void)leaked;  // the group object is gone after task_group returns; nothing to test on it
    aio::TaskGroup never_entered;
    EXPECT_THROW(never_entered.create_task(value_after(1, 1ms)), aio::RuntimeError);
    // The refused coroutine never ran: debug mode reports it by name.
    auto reports = loop.take_reports();
    if (aio::detail::debug_enabled()) {
        CO_ASSERT_EQ(reports.size(), 1u);
        EXPECT_NE(reports[0].where.find("value_after"), std::string::npos) << reports[0].where;
    }
}

AIO_TEST(TaskGroup, CallableChildrenKeepTheirCapturesAlive) {
    int total = 0;
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<> {
        for (int i = 1; i <= 3; ++i) {
            std::string label = "child-" + std::to_string(i);
            tg.create_task([label, i, &total]() -> aio::Coro<> {
                co_await aio::sleep(std::chrono::milliseconds(i));
                EXPECT_EQ(label, "child-" + std::to_string(i));
                total += i;
            });
        }
        co_return;
    });
    EXPECT_EQ(total, 6);
}
