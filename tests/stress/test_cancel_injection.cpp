// Cancellation injection: for scenarios that use every primitive, cancel the task at
// each of its await points in turn and check the invariants afterwards — cleanup ran
// exactly once, no lock, permit, item, waiter, timer or task is leaked.
#include <functional>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

struct World {
    aio::Lock lock;
    aio::Semaphore sem{2};
    aio::Event event;
    aio::Condition cond;
    aio::Queue<int> queue{1};
    int started = 0;
    int cleanups = 0;
    int items_put = 0;
    int items_got = 0;
};

/// Counts its destruction: the scenario's cleanup must run exactly once on every path.
struct Cleanup {
    explicit Cleanup(World& world) : w(world) { ++w.started; }
    Cleanup(const Cleanup&) = delete;
    Cleanup& operator=(const Cleanup&) = delete;
    ~Cleanup() { ++w.cleanups; }
    World& w;
};

aio::Coro<int> helper(World& w, int v) {
    Cleanup c{w};
    co_await aio::sleep(1ms);
    co_return v;
}

aio::Coro<> scenario(World& w) {
    Cleanup c{w};
    {
        auto held = co_await w.lock.scoped();
        co_await aio::sleep(1ms);
    }
    {
        auto permit = co_await w.sem.scoped();
        co_await aio::sleep(1ms);
    }
    co_await w.queue.put(1);
    ++w.items_put;
    co_await w.queue.put(2);  // blocks until the consumer takes the first item
    ++w.items_put;
    co_await w.event.wait();
    {
        auto held = co_await w.cond.scoped();
        co_await w.cond.wait_for([&] { return w.items_got >= 2; });
    }
    auto [a, b] = co_await aio::gather(helper(w, 1), helper(w, 2));
    EXPECT_EQ(a + b, 3);
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<> {
        tg.create_task(helper(w, 3));
        co_await aio::sleep(1ms);
    });
    try {
        co_await aio::timeout(1ms, [] { return aio::sleep(1h); });
    } catch (const aio::TimeoutError&) {
    }
    co_await aio::wait_for(helper(w, 4), 1h);
    co_await aio::shield(helper(w, 5));
}

/// What the other side does: consume queue items, set the event, notify the condition.
aio::Coro<int> get_item(aio::Queue<int>& q) { co_return co_await q.get(); }

aio::Coro<> other_side(World& w) {
    co_await aio::sleep(3ms);
    for (int i = 0; i < 2; ++i) {
        auto item = co_await aio::wait_for(get_item(w.queue), 20ms);
        (void)item;
        ++w.items_got;
        co_await aio::sleep(1ms);
    }
    w.event.set();
    auto held = co_await w.cond.scoped();
    w.cond.notify_all();
}

}  // namespace

TEST(CancelInjection, EveryAwaitPointOfEveryPrimitive) {
    int points = 0;
    for (int k = 0;; ++k) {
        aio::test::TestLoop tl;
        World w;
        auto task = tl.spawn(scenario(w), "scenario");
        auto other = tl.spawn([](World& world) -> aio::Coro<> {
            try {
                co_await other_side(world);
            } catch (const aio::TimeoutError&) {
                // the scenario was cancelled before it put anything
            }
        }(w));
        for (int step = 0; step < k && !task.done(); ++step) tl.step();
        const bool finished_alone = task.done();
        if (!finished_alone) task.cancel("injected");
        for (int guard = 0; guard < 10'000 && !(task.done() && other.done()); ++guard) tl.step();
        ASSERT_TRUE(task.done()) << "k=" << k;
        ASSERT_TRUE(other.done()) << "k=" << k;
        tl.advance(2h);  // let shielded and background work finish
        // Invariants, whatever point the cancellation hit:
        EXPECT_FALSE(w.lock.locked()) << "k=" << k;
        EXPECT_EQ(w.sem.value(), 2) << "k=" << k;
        EXPECT_FALSE(w.cond.locked()) << "k=" << k;
        EXPECT_EQ(static_cast<int>(w.queue.qsize()), w.items_put - w.items_got) << "k=" << k;
        EXPECT_EQ(tl.loop().timer_count(), 0u) << "k=" << k;
        // Every frame that started (the scenario, each helper) cleaned up exactly once.
        EXPECT_EQ(w.cleanups, w.started) << "k=" << k;
        if (finished_alone) {
            EXPECT_EQ(w.cleanups, 6);  // scenario + 5 helpers
            EXPECT_FALSE(task.cancelled());
        } else {
            EXPECT_TRUE(task.cancelled()) << "k=" << k;
        }
        EXPECT_TRUE(tl.take_reports().empty()) << "k=" << k;
        ++points;
        if (finished_alone) break;
        ASSERT_LT(k, 500) << "the scenario never finished";
    }
    EXPECT_GT(points, 20);  // the scenario really has that many distinct await points
}
