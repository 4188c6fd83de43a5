#include "aio/tasks.hpp"

#include <string>
#include <vector>

#include "aio/sleep.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

aio::Coro<int> value_after(int v, std::chrono::milliseconds d, std::vector<int>* log = nullptr) {
    co_await aio::sleep(d);
    if (log) log->push_back(v);
    co_return v;
}

aio::Coro<int> fail_after(std::chrono::milliseconds d, std::string what = "boom") {
    co_await aio::sleep(d);
    throw std::runtime_error(what);
}

aio::Coro<> nothing_after(std::chrono::milliseconds d) { co_await aio::sleep(d); }

}  // namespace

AIO_TEST(Gather, ResultsInArgumentOrderWhateverTheCompletionOrder) {
    std::vector<int> completed;
    auto [a, b, c] = co_await aio::gather(value_after(1, 30ms, &completed), value_after(2, 10ms, &completed),
                                          value_after(3, 20ms, &completed));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
    EXPECT_EQ(c, 3);
    EXPECT_EQ(completed, (std::vector<int>{2, 3, 1}));
    EXPECT_EQ(loop.elapsed(), 30ms);  // concurrent, not 60 ms
}

AIO_TEST(Gather, VoidResultsAreMonostateAndTasksAreAccepted) {
    auto t = aio::create_task(value_after(7, 5ms));
    auto [v, nothing] = co_await aio::gather(t, nothing_after(1ms));
    EXPECT_EQ(v, 7);
    static_assert(std::is_same_v<decltype(nothing), std::monostate>);
}

AIO_TEST(Gather, FirstExceptionPropagatesAndSiblingsKeepRunning) {
    auto slow = aio::create_task(value_after(1, 50ms));
    try {
        co_await aio::gather(slow, fail_after(10ms));
        ADD_FAILURE() << "expected the child's exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "boom");
    }
    EXPECT_EQ(loop.elapsed(), 10ms);
    EXPECT_FALSE(slow.done());  // not cancelled (asyncio's contract)
    EXPECT_EQ(co_await slow, 1);
}

AIO_TEST(Gather, LaterFailuresAreNotReportedAsNeverRetrieved) {
    // asyncio's gather retrieves the exceptions of children that fail after it raised the
    // first one, so they are not logged; the fixture fails the test on any report.
    std::vector<aio::Coro<int>> children;
    children.push_back(fail_after(10ms));
    children.push_back(fail_after(20ms));
    children.push_back(fail_after(30ms));
    EXPECT_THROW(co_await aio::gather(std::move(children)), std::runtime_error);
    co_await aio::sleep(50ms);  // the other two fail meanwhile
    EXPECT_TRUE(loop.take_reports().empty());
}

AIO_TEST(Gather, CancellingTheGatherCancelsEveryChild) {
    auto a = aio::create_task(value_after(1, 1h));
    auto b = aio::create_task(value_after(2, 1h));
    auto g = aio::create_task([a, b]() -> aio::Coro<> { co_await aio::gather(a, b); });
    co_await aio::sleep(1ms);
    g.cancel();
    EXPECT_THROW(co_await g, aio::CancelledError);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
}

AIO_TEST(Gather, ChildCancelledOutsideRaisesCancelledInTheGather) {
    auto a = aio::create_task(value_after(1, 1h));
    auto b = aio::create_task(value_after(2, 5ms));
    auto g = aio::create_task([a, b]() -> aio::Coro<int> {
        auto [x, y] = co_await aio::gather(a, b);
        co_return x + y;
    });
    co_await aio::sleep(1ms);
    a.cancel();
    EXPECT_THROW(co_await g, aio::CancelledError);
    EXPECT_EQ(co_await b, 2);
}

AIO_TEST(Gather, ReturnExceptionsCollectsFailuresAndCancellations) {
    auto c = aio::create_task(value_after(3, 1h));
    auto canceller = aio::create_task([c]() mutable -> aio::Coro<> {
        co_await aio::sleep(5ms);
        c.cancel();
    });
    auto [ok, bad, cancelled] = co_await aio::gather(aio::return_exceptions, value_after(1, 10ms), fail_after(2ms), c);
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(ok.value(), 1);
    EXPECT_FALSE(bad.has_value());
    EXPECT_THROW(bad.value(), std::runtime_error);
    EXPECT_TRUE(cancelled.cancelled());
    co_await canceller;
}

AIO_TEST(Gather, RangeFormOverCorosAndTasks) {
    std::vector<aio::Coro<int>> coros;
    for (int i = 0; i < 5; ++i) coros.push_back(value_after(i, std::chrono::milliseconds(10 - i)));
    std::vector<int> out = co_await aio::gather(std::move(coros));
    EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4}));

    std::vector<aio::Task<int>> tasks;
    for (int i = 0; i < 3; ++i) tasks.push_back(aio::create_task(value_after(i * 10, 1ms)));
    auto outcomes = co_await aio::gather(aio::return_exceptions, tasks);
    CO_ASSERT_EQ(outcomes.size(), 3u);
    EXPECT_EQ(outcomes[2].value(), 20);
}

// A gather watches its children without a node per child while it is a child's only
// waiter; these pin the cases where it shares a child with other waiters.
AIO_TEST(Gather, SharesAChildWithOtherWaitersInEitherOrder) {
    auto shared = aio::create_task(value_after(5, 10ms));
    auto early = aio::create_task([shared]() -> aio::Coro<int> { co_return co_await shared + 1; });
    co_await aio::sleep(1ms);  // `early` waits on `shared` before the gather does
    auto gather = aio::create_task(aio::gather(shared, value_after(2, 5ms)));
    co_await aio::sleep(1ms);
    auto late = aio::create_task([shared]() -> aio::Coro<int> { co_return co_await shared + 2; });
    std::vector<int> callbacks;
    auto id = shared.add_done_callback([&](const aio::Task<int>& t) { callbacks.push_back(t.result()); });
    shared.add_done_callback([&](const aio::Task<int>& t) { callbacks.push_back(t.result() * 10); });
    EXPECT_EQ(shared.remove_done_callback(id), 1u);
    auto [a, b] = co_await gather;
    EXPECT_EQ(a, 5);
    EXPECT_EQ(b, 2);
    EXPECT_EQ(co_await early, 6);
    EXPECT_EQ(co_await late, 7);
    co_await aio::sleep(0ms);
    EXPECT_EQ(callbacks, (std::vector<int>{50}));
}

AIO_TEST(Gather, SameTaskTwiceAndAWaitThatLeavesEarly) {
    auto t = aio::create_task(value_after(3, 10ms));
    auto [x, y] = co_await aio::gather(t, t);
    EXPECT_EQ(x + y, 6);

    // A wait that times out while other waiters share its child unregisters only itself.
    auto child = aio::create_task(value_after(4, 20ms));
    auto g = aio::create_task(aio::gather(aio::return_exceptions, child));
    auto other = aio::create_task([child]() -> aio::Coro<int> { co_return co_await child; });
    co_await aio::sleep(1ms);
    std::vector<aio::Task<int>> just_child;  // g++ 12: no braced lists in a co_await statement
    just_child.push_back(child);
    aio::WaitOptions options;
    options.timeout = 5ms;
    auto w = co_await aio::wait(std::move(just_child), options);
    EXPECT_EQ(w.pending.size(), 1u);  // the timed-out wait left; the child runs on
    EXPECT_EQ(co_await other, 4);
    auto outcomes = co_await g;
    EXPECT_EQ(std::get<0>(outcomes).value(), 4);
}

AIO_TEST(Wait, AllCompletedReturnsEverythingDone) {
    std::vector<aio::Task<int>> tasks{aio::create_task(value_after(1, 5ms)), aio::create_task(value_after(2, 10ms))};
    auto [done, pending] = co_await aio::wait(tasks);
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
    EXPECT_EQ(done[0].result(), 1);  // order preserved
}

AIO_TEST(Wait, FirstCompletedThenCancelTheRest) {
    std::vector<aio::Task<int>> tasks{aio::create_task(value_after(1, 30ms)), aio::create_task(value_after(2, 10ms)),
                                      aio::create_task(value_after(3, 20ms))};
    auto [done, pending] = co_await aio::wait(tasks, {.timeout = std::nullopt, .return_when = aio::FIRST_COMPLETED});
    CO_ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].result(), 2);
    EXPECT_EQ(pending.size(), 2u);
    EXPECT_EQ(loop.elapsed(), 10ms);
    for (auto& p : pending) p.cancel();
    for (auto& p : pending) EXPECT_THROW(co_await p, aio::CancelledError);
}

AIO_TEST(Wait, FirstExceptionIgnoresCancellationsAndStopsAtAFailure) {
    std::vector<aio::Task<int>> tasks{aio::create_task(value_after(1, 5ms)), aio::create_task(fail_after(10ms)),
                                      aio::create_task(value_after(3, 50ms))};
    auto [done, pending] = co_await aio::wait(tasks, {.timeout = std::nullopt, .return_when = aio::FIRST_EXCEPTION});
    EXPECT_EQ(done.size(), 2u);
    EXPECT_EQ(pending.size(), 1u);
    EXPECT_EQ(loop.elapsed(), 10ms);
    EXPECT_THROW(co_await done[1], std::runtime_error);
    co_await pending[0];
}

AIO_TEST(Wait, TimeoutNeverRaisesAndCancelsNothing) {
    std::vector<aio::Task<int>> tasks{aio::create_task(value_after(1, 5ms)), aio::create_task(value_after(2, 1h))};
    auto [done, pending] = co_await aio::wait(tasks, {.timeout = 20ms});
    EXPECT_EQ(done.size(), 1u);
    CO_ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(loop.elapsed(), 20ms);
    EXPECT_FALSE(pending[0].done());
    pending[0].cancel();
    EXPECT_THROW(co_await pending[0], aio::CancelledError);
}

AIO_TEST(Wait, EmptySetIsAnError) {
    std::vector<aio::Task<int>> none;
    EXPECT_THROW(co_await aio::wait(none), std::invalid_argument);
}

AIO_TEST(Wait, CancellingTheWaiterLeavesTheTasksRunning) {
    auto child = aio::create_task(value_after(1, 10ms));
    auto waiter = aio::create_task([child]() -> aio::Coro<> {
        std::vector<aio::Task<int>> ts{child};
        co_await aio::wait(ts);
    });
    co_await aio::sleep(1ms);
    waiter.cancel();
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_FALSE(child.cancelled());
    EXPECT_EQ(co_await child, 1);
}

AIO_TEST(AsCompleted, YieldsInCompletionOrder) {
    std::vector<aio::Task<int>> tasks{aio::create_task(value_after(1, 30ms)), aio::create_task(value_after(2, 10ms)),
                                      aio::create_task(value_after(3, 20ms))};
    std::vector<int> order;
    auto it = aio::as_completed(tasks);
    while (auto t = co_await it.next()) order.push_back(co_await *t);
    EXPECT_EQ(order, (std::vector<int>{2, 3, 1}));
}

AIO_TEST(AsCompleted, TimeoutRaisesTimeoutError) {
    std::vector<aio::Task<int>> tasks{aio::create_task(value_after(1, 5ms)), aio::create_task(value_after(2, 1h))};
    auto it = aio::as_completed(tasks, 10ms);
    auto first = co_await it.next();
    CO_ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->result(), 1);
    EXPECT_THROW(co_await it.next(), aio::TimeoutError);
    EXPECT_EQ(loop.elapsed(), 10ms);
    tasks[1].cancel();
    EXPECT_THROW(co_await tasks[1], aio::CancelledError);
}

AIO_TEST(Shield, CancellingTheOuterAwaitDoesNotCancelTheInner) {
    auto inner = aio::create_task(value_after(5, 20ms));
    auto outer = aio::create_task([inner]() -> aio::Coro<int> { co_return co_await aio::shield(inner); });
    co_await aio::sleep(5ms);
    outer.cancel();
    EXPECT_THROW(co_await outer, aio::CancelledError);
    EXPECT_EQ(loop.elapsed(), 5ms);
    EXPECT_FALSE(inner.done());
    EXPECT_EQ(co_await inner, 5);
}

AIO_TEST(Shield, PassesResultsAndErrorsThrough) {
    EXPECT_EQ(co_await aio::shield(value_after(3, 1ms)), 3);
    EXPECT_THROW(co_await aio::shield(fail_after(1ms)), std::runtime_error);
}

AIO_TEST(Race, FirstResultWinsAndLosersAreCancelledAndCleanedUp) {
    bool loser_cleaned = false;
    auto loser = [&]() -> aio::Coro<std::string> {
        try {
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
            loser_cleaned = true;
            throw;
        }
        co_return "never";
    };
    auto winner = co_await aio::race(loser(), value_after(9, 10ms));
    EXPECT_EQ(winner.index(), 1u);
    EXPECT_EQ(std::get<1>(winner), 9);
    EXPECT_TRUE(loser_cleaned);
    EXPECT_EQ(loop.elapsed(), 10ms);
}

AIO_TEST(Race, FirstFailureIsRaisedAfterCleanup) {
    EXPECT_THROW(co_await aio::race(value_after(1, 1h), fail_after(1ms)), std::runtime_error);
}
