#include "aio/queues.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;
using Log = std::vector<std::string>;

// Expected interleavings below were produced by the same scenarios on CPython 3.13.0's
// asyncio (the comment next to each names what asyncio printed).

static_assert(!std::is_copy_constructible_v<aio::Queue<int>>);
static_assert(!std::is_move_constructible_v<aio::Queue<int>>);
static_assert(!std::is_copy_assignable_v<aio::PriorityQueue<int>>);
static_assert(!std::is_move_assignable_v<aio::LifoQueue<int>>);

namespace {

// asyncio's `await asyncio.sleep(0)`: let every ready task run one step.
aio::Coro<> yield_once() { co_await aio::sleep(0ms); }

}  // namespace

// ---- basics ----

AIO_TEST(Queue, FifoOrderAndSizes) {
    aio::Queue<int> q;
    EXPECT_EQ(q.maxsize(), 0u);
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.full());
    for (int i = 1; i <= 20; ++i) co_await q.put(i);  // unbounded: never full, ring grows
    EXPECT_EQ(q.qsize(), 20u);
    EXPECT_FALSE(q.full());
    std::vector<int> got;
    for (int i = 0; i < 10; ++i) got.push_back(co_await q.get());
    for (int i = 21; i <= 25; ++i) q.put_nowait(i);  // wraps around the ring
    while (!q.empty()) got.push_back(q.get_nowait());
    std::vector<int> want;
    for (int i = 1; i <= 25; ++i) want.push_back(i);
    EXPECT_EQ(got, want);
}

AIO_TEST(Queue, BoundedSizes) {
    aio::Queue<int> q(2);
    EXPECT_EQ(q.maxsize(), 2u);
    q.put_nowait(1);
    EXPECT_FALSE(q.full());
    q.put_nowait(2);
    EXPECT_TRUE(q.full());
    EXPECT_EQ(q.qsize(), 2u);
    EXPECT_EQ(q.get_nowait(), 1);
    EXPECT_FALSE(q.full());
    EXPECT_EQ(q.get_nowait(), 2);
    co_return;
}

AIO_TEST(Queue, NowaitErrors) {
    aio::Queue<int> q(1);
    EXPECT_THROW((void)q.get_nowait(), aio::QueueEmpty);
    q.put_nowait(7);
    EXPECT_THROW(q.put_nowait(8), aio::QueueFull);
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.get_nowait(), 7);
    EXPECT_THROW((void)q.get_nowait(), aio::QueueEmpty);
    try {
        (void)q.get_nowait();
    } catch (const aio::Error& e) {  // the queue errors are aio::Error
        EXPECT_STREQ(e.what(), "QueueEmpty: the queue is empty");
    }
    co_return;
}

AIO_TEST(Queue, GetWaitsForPut) {
    aio::Queue<std::string> q;
    Log log;
    auto consumer = aio::create_task([&]() -> aio::Coro<> {
        log.push_back("waiting");
        std::string v = co_await q.get();
        log.push_back("got " + v);
    });
    co_await aio::sleep(5ms);
    EXPECT_EQ(log, Log{"waiting"});
    EXPECT_FALSE(consumer.done());
    co_await q.put(std::string("x"));
    EXPECT_EQ(log, Log{"waiting"});  // woken, not yet run
    co_await consumer;
    EXPECT_EQ(log, (Log{"waiting", "got x"}));
    EXPECT_TRUE(q.empty());
}

AIO_TEST(Queue, FastPathsDoNotSuspend) {
    // asyncio: get() on a non-empty queue and put() on a non-full one never yield.
    aio::Queue<int> q(3);
    Log log;
    auto other = aio::create_task([&]() -> aio::Coro<> {
        log.push_back("other ran");
        co_return;
    });
    co_await q.put(1);
    co_await q.put(2);
    int a = co_await q.get();
    int b = co_await q.get();
    EXPECT_EQ(a + b, 3);
    EXPECT_TRUE(log.empty());  // no suspension happened
    co_await other;
    EXPECT_EQ(log, Log{"other ran"});
}

AIO_TEST(Queue, WakeupTakesTheWakersPlaceInTheReadyQueue) {
    // asyncio: [('other', 1), ('got', 5), ('other', 2)]
    aio::Queue<int> q;
    Log log;
    auto g = aio::create_task([&]() -> aio::Coro<> { log.push_back("got " + std::to_string(co_await q.get())); });
    co_await yield_once();
    auto t1 = aio::create_task([&]() -> aio::Coro<> {
        log.push_back("other 1");
        co_return;
    });
    q.put_nowait(5);
    auto t2 = aio::create_task([&]() -> aio::Coro<> {
        log.push_back("other 2");
        co_return;
    });
    co_await g;
    co_await t1;
    co_await t2;
    EXPECT_EQ(log, (Log{"other 1", "got 5", "other 2"}));
}

// ---- back-pressure ----

AIO_TEST(Queue, MaxsizeBackPressureInterleaving) {
    // asyncio: ['put 0', 'put 0 done', 'put 1', 'put 1 done', 'put 2', 'get 0',
    //           'put 2 done', 'put 3', 'get 1', 'put 3 done', 'put 4', 'get 2',
    //           'put 4 done', 'get 3', 'get 4']
    aio::Queue<int> q(2);
    Log log;
    auto producer = aio::create_task([&]() -> aio::Coro<> {
        for (int i = 0; i < 5; ++i) {
            log.push_back("put " + std::to_string(i));
            co_await q.put(i);
            log.push_back("put " + std::to_string(i) + " done");
        }
    });
    auto consumer = aio::create_task([&]() -> aio::Coro<> {
        for (int i = 0; i < 5; ++i) {
            co_await aio::sleep(1s);
            int v = co_await q.get();
            log.push_back("get " + std::to_string(v));
        }
    });
    co_await producer;
    co_await consumer;
    EXPECT_EQ(log, (Log{"put 0", "put 0 done", "put 1", "put 1 done", "put 2", "get 0", "put 2 done", "put 3",
                        "get 1", "put 3 done", "put 4", "get 2", "put 4 done", "get 3", "get 4"}));
    EXPECT_EQ(loop.elapsed(), 5s);
}

AIO_TEST(Queue, BlockedPutterResumesExactlyWhenAConsumerGets) {
    aio::Queue<int> q(1);
    q.put_nowait(0);
    bool put_done = false;
    auto producer = aio::create_task([&]() -> aio::Coro<> {
        co_await q.put(1);
        put_done = true;
    });
    co_await aio::sleep(1h);
    EXPECT_FALSE(put_done);  // still blocked after any amount of time
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.get_nowait(), 0);
    EXPECT_FALSE(put_done);  // woken, runs at its turn
    co_await yield_once();
    EXPECT_TRUE(put_done);
    EXPECT_EQ(q.get_nowait(), 1);
    co_await producer;
}

// ---- join / task_done ----

AIO_TEST(Queue, JoinWaitsForTaskDoneOfEveryItem) {
    aio::Queue<int> q;
    co_await q.join();  // nothing unfinished: returns at once
    Log log;
    for (int i = 0; i < 3; ++i) q.put_nowait(i);
    auto joiner = aio::create_task([&]() -> aio::Coro<> {
        co_await q.join();
        log.push_back("joined");
    });
    co_await yield_once();
    for (int i = 0; i < 3; ++i) (void)q.get_nowait();
    co_await yield_once();
    EXPECT_TRUE(log.empty());  // gotten is not done
    q.task_done();
    q.task_done();
    co_await yield_once();
    EXPECT_TRUE(log.empty());
    q.task_done();
    EXPECT_TRUE(log.empty());  // woken, not yet run
    co_await joiner;
    EXPECT_EQ(log, Log{"joined"});
}

AIO_TEST(Queue, JoinReturnsOnceWokenEvenIfMoreIsPut) {
    // asyncio's join waits on an Event: once set, the woken waiter returns.
    aio::Queue<int> q;
    q.put_nowait(1);
    bool joined = false;
    auto joiner = aio::create_task([&]() -> aio::Coro<> {
        co_await q.join();
        joined = true;
    });
    co_await yield_once();
    (void)q.get_nowait();
    q.task_done();
    q.put_nowait(2);  // clears the event again before the joiner runs
    co_await joiner;
    EXPECT_TRUE(joined);
    (void)q.get_nowait();
    q.task_done();
}

AIO_TEST(Queue, TaskDoneTooManyTimesThrows) {
    aio::Queue<int> q;
    try {
        q.task_done();
        ADD_FAILURE() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "task_done() called too many times");
    }
    q.put_nowait(1);
    (void)q.get_nowait();
    q.task_done();
    EXPECT_THROW(q.task_done(), std::invalid_argument);
    co_return;
}

AIO_TEST(Queue, CancelledJoinerLeavesOthersWaiting) {
    aio::Queue<int> q;
    q.put_nowait(1);
    Log log;
    auto joiner = [&](std::string name) -> aio::Coro<> {
        co_await q.join();
        log.push_back(name);
    };
    auto j1 = aio::create_task(joiner, std::string("j1"));
    auto j2 = aio::create_task(joiner, std::string("j2"));
    auto j3 = aio::create_task(joiner, std::string("j3"));
    co_await yield_once();
    j2.cancel();
    EXPECT_THROW(co_await j2, aio::CancelledError);
    (void)q.get_nowait();
    q.task_done();
    co_await j1;
    co_await j3;
    EXPECT_EQ(log, (Log{"j1", "j3"}));
}

// ---- other orders ----

AIO_TEST(Queue, PriorityQueueSmallestFirst) {
    aio::PriorityQueue<int> q;
    for (int v : {5, 1, 4, 1, 3, 9, 2, 6}) co_await q.put(v);
    std::vector<int> got;
    while (!q.empty()) got.push_back(co_await q.get());
    EXPECT_EQ(got, (std::vector<int>{1, 1, 2, 3, 4, 5, 6, 9}));
}

AIO_TEST(Queue, PriorityQueueWithPriorityPayloadPairs) {
    aio::PriorityQueue<std::pair<int, std::string>> q;
    std::pair<int, std::string> e1(3, "low"), e2(1, "urgent"), e3(2, "normal"), e4(1, "also urgent");
    co_await q.put(std::move(e1));
    co_await q.put(std::move(e2));
    q.put_nowait(std::move(e3));
    q.put_nowait(std::move(e4));
    Log got;
    while (!q.empty()) {
        auto [prio, payload] = co_await q.get();
        got.push_back(std::to_string(prio) + ":" + payload);
    }
    // Ties compare the payload, as Python compares tuples.
    EXPECT_EQ(got, (Log{"1:also urgent", "1:urgent", "2:normal", "3:low"}));
}

AIO_TEST(Queue, PriorityQueueCustomCompare) {
    aio::PriorityQueue<int, std::greater<int>> q;  // "smallest" under greater: the largest
    for (int v : {2, 7, 1, 8}) q.put_nowait(v);
    std::vector<int> got;
    while (!q.empty()) got.push_back(q.get_nowait());
    EXPECT_EQ(got, (std::vector<int>{8, 7, 2, 1}));
    co_return;
}

AIO_TEST(Queue, LifoQueueNewestFirst) {
    aio::LifoQueue<int> q(3);
    for (int i = 1; i <= 3; ++i) co_await q.put(i);
    EXPECT_TRUE(q.full());
    EXPECT_EQ(co_await q.get(), 3);
    q.put_nowait(4);
    std::vector<int> got;
    while (!q.empty()) got.push_back(co_await q.get());
    EXPECT_EQ(got, (std::vector<int>{4, 2, 1}));
}

// ---- move-only items ----

AIO_TEST(Queue, MoveOnlyItems) {
    aio::Queue<std::unique_ptr<int>> q(1);
    auto producer = aio::create_task([&]() -> aio::Coro<> {
        for (int i = 1; i <= 3; ++i) {
            auto p = std::make_unique<int>(i);
            co_await q.put(std::move(p));  // blocks while full, holding the item
        }
    });
    std::vector<int> got;
    for (int i = 0; i < 3; ++i) {
        std::unique_ptr<int> p = co_await q.get();
        CO_ASSERT_TRUE(p != nullptr);
        got.push_back(*p);
    }
    co_await producer;
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));

    struct ByValue {
        bool operator()(const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) const { return *a < *b; }
    };
    aio::PriorityQueue<std::unique_ptr<int>, ByValue> pq;
    for (int v : {3, 1, 2}) pq.put_nowait(std::make_unique<int>(v));
    std::unique_ptr<int> first = co_await pq.get();
    EXPECT_EQ(*first, 1);
    EXPECT_EQ(*pq.get_nowait(), 2);

    aio::LifoQueue<std::unique_ptr<int>> lq;
    lq.put_nowait(std::make_unique<int>(10));
    lq.put_nowait(std::make_unique<int>(20));
    std::unique_ptr<int> last = co_await lq.get();
    EXPECT_EQ(*last, 20);
}

AIO_TEST(Queue, ItemsLeftInTheQueueAreDestroyedWithIt) {
    auto shared = std::make_shared<int>(1);
    {
        aio::Queue<std::shared_ptr<int>> q;
        for (int i = 0; i < 10; ++i) q.put_nowait(shared);  // grows the ring twice
        (void)q.get_nowait();
        EXPECT_EQ(shared.use_count(), 10);
    }
    EXPECT_EQ(shared.use_count(), 1);
    co_return;
}

// ---- cancellation ----

AIO_TEST(Queue, CancelledGetterLosesNoItem) {
    aio::Queue<int> q;
    Log log;
    auto getter = [&](std::string name) -> aio::Coro<> {
        try {
            int v = co_await q.get();
            log.push_back(name + "=" + std::to_string(v));
        } catch (const aio::CancelledError&) {
            log.push_back(name + " cancelled");
            throw;
        }
    };
    auto g1 = aio::create_task(getter, std::string("g1"));
    auto g2 = aio::create_task(getter, std::string("g2"));
    auto g3 = aio::create_task(getter, std::string("g3"));
    co_await yield_once();
    EXPECT_TRUE(g2.cancel());
    EXPECT_THROW(co_await g2, aio::CancelledError);
    EXPECT_EQ(log, Log{"g2 cancelled"});
    q.put_nowait(1);
    q.put_nowait(2);
    co_await g1;
    co_await g3;
    EXPECT_EQ(log, (Log{"g2 cancelled", "g1=1", "g3=2"}));
    EXPECT_TRUE(q.empty());
}

AIO_TEST(Queue, WokenThenCancelledGetterPassesItsWakeupOn) {
    // asyncio: [('g1', 'cancelled'), ('g2', 1)]
    aio::Queue<int> q;
    Log log;
    auto getter = [&](std::string name) -> aio::Coro<> {
        try {
            int v = co_await q.get();
            log.push_back(name + "=" + std::to_string(v));
        } catch (const aio::CancelledError&) {
            log.push_back(name + " cancelled");
            throw;
        }
    };
    auto g1 = aio::create_task(getter, std::string("g1"));
    auto g2 = aio::create_task(getter, std::string("g2"));
    co_await yield_once();
    q.put_nowait(1);  // wakes g1 only
    EXPECT_TRUE(g1.cancel());  // before g1 runs
    EXPECT_THROW(co_await g1, aio::CancelledError);
    co_await g2;
    EXPECT_EQ(log, (Log{"g1 cancelled", "g2=1"}));
    EXPECT_TRUE(q.empty());
}

AIO_TEST(Queue, StolenWakeupWaitsAgainAtTheBack) {
    // asyncio: stolen 1, [('g2', 2), ('g1', 3)]
    aio::Queue<int> q;
    Log log;
    auto getter = [&](std::string name) -> aio::Coro<> {
        int v = co_await q.get();
        log.push_back(name + "=" + std::to_string(v));
    };
    auto g1 = aio::create_task(getter, std::string("g1"));
    co_await yield_once();
    auto g2 = aio::create_task(getter, std::string("g2"));
    co_await yield_once();
    q.put_nowait(1);  // wakes g1
    EXPECT_EQ(q.get_nowait(), 1);  // ...but we take the item first
    co_await yield_once();  // g1 finds the queue empty and waits again, behind g2
    EXPECT_TRUE(log.empty());
    q.put_nowait(2);
    q.put_nowait(3);
    co_await g1;
    co_await g2;
    EXPECT_EQ(log, (Log{"g2=2", "g1=3"}));
}

AIO_TEST(Queue, CancelledPutterDoesNotAddItsItem) {
    aio::Queue<int> q(1);
    q.put_nowait(0);
    Log log;
    auto putter = [&](int v) -> aio::Coro<> {
        try {
            co_await q.put(v);
            log.push_back("put " + std::to_string(v));
        } catch (const aio::CancelledError&) {
            log.push_back("cancelled " + std::to_string(v));
            throw;
        }
    };
    auto p1 = aio::create_task(putter, 1);
    auto p2 = aio::create_task(putter, 2);
    auto p3 = aio::create_task(putter, 3);
    co_await yield_once();
    p2.cancel();
    EXPECT_THROW(co_await p2, aio::CancelledError);
    std::vector<int> got;
    for (int i = 0; i < 3; ++i) got.push_back(co_await q.get());
    co_await p1;
    co_await p3;
    EXPECT_EQ(got, (std::vector<int>{0, 1, 3}));
    EXPECT_EQ(log, (Log{"cancelled 2", "put 1", "put 3"}));
    EXPECT_TRUE(q.empty());
}

AIO_TEST(Queue, WokenThenCancelledPutterPassesItsWakeupOn) {
    aio::Queue<int> q(1);
    q.put_nowait(0);
    auto putter = [&](int v) -> aio::Coro<> { co_await q.put(v); };
    auto p1 = aio::create_task(putter, 1);
    auto p2 = aio::create_task(putter, 2);
    co_await yield_once();
    EXPECT_EQ(q.get_nowait(), 0);  // wakes p1 only
    p1.cancel();  // before p1 runs
    EXPECT_THROW(co_await p1, aio::CancelledError);
    co_await p2;
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.get_nowait(), 2);
}

AIO_TEST(Queue, StolenSlotPutterWaitsAgainAtTheBack) {
    // asyncio: [('got', 0), ('got', 9), 'p2', ('got', 2), 'p1', ('got', 1)] 0
    aio::Queue<int> q(1);
    q.put_nowait(0);
    Log log;
    auto putter = [&](std::string name, int v) -> aio::Coro<> {
        co_await q.put(v);
        log.push_back(name);
    };
    auto p1 = aio::create_task(putter, std::string("p1"), 1);
    co_await yield_once();
    auto p2 = aio::create_task(putter, std::string("p2"), 2);
    co_await yield_once();
    log.push_back("got " + std::to_string(q.get_nowait()));  // wakes p1
    q.put_nowait(9);  // takes the slot first
    co_await yield_once();
    for (int i = 0; i < 3; ++i) {
        log.push_back("got " + std::to_string(q.get_nowait()));
        co_await yield_once();
    }
    co_await p1;
    co_await p2;
    EXPECT_EQ(log, (Log{"got 0", "got 9", "p2", "got 2", "p1", "got 1"}));
    EXPECT_TRUE(q.empty());
}

AIO_TEST(Queue, PendingCancelIsRaisedOnlyWhenGetWouldSuspend) {
    // asyncio: [1, 'cancelled']
    aio::Queue<int> q;
    q.put_nowait(1);
    aio::current_task().cancel();
    EXPECT_EQ(co_await q.get(), 1);  // completes at once: no CancelledError
    bool raised = false;
    try {
        (void)co_await q.get();  // would suspend: the pending cancel is raised
    } catch (const aio::CancelledError&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(aio::current_task().uncancel(), 0);
}

AIO_TEST(Queue, CancelWhileWaitingCanBeSwallowedAndGetRetried) {
    aio::Queue<int> q;
    auto consumer = aio::create_task([&]() -> aio::Coro<int> {
        try {
            (void)co_await q.get();
        } catch (const aio::CancelledError&) {
            aio::current_task().uncancel();
        }
        co_return co_await q.get();
    });
    co_await yield_once();
    consumer.cancel();
    co_await yield_once();
    q.put_nowait(42);
    EXPECT_EQ(co_await consumer, 42);
}

// ---- shutdown (3.13) ----

AIO_TEST(Queue, PutAfterShutdownRaises) {
    aio::Queue<int> q;
    q.shutdown();
    EXPECT_THROW(q.put_nowait(1), aio::QueueShutDown);
    EXPECT_THROW(co_await q.put(1), aio::QueueShutDown);
    EXPECT_TRUE(q.empty());
}

AIO_TEST(Queue, GetDrainsRemainingItemsThenRaises) {
    aio::Queue<int> q;
    q.put_nowait(1);
    q.put_nowait(2);
    q.shutdown();
    EXPECT_EQ(co_await q.get(), 1);
    EXPECT_EQ(q.get_nowait(), 2);
    EXPECT_THROW(co_await q.get(), aio::QueueShutDown);
    EXPECT_THROW((void)q.get_nowait(), aio::QueueShutDown);
    q.task_done();
    q.task_done();
    co_await q.join();
}

AIO_TEST(Queue, ShutdownWakesBlockedGetters) {
    // asyncio: [('g0', 'shutdown'), ('g1', 'shutdown'), ('g2', 'shutdown')]
    aio::Queue<int> q;
    Log log;
    auto getter = [&](std::string name) -> aio::Coro<> {
        try {
            int v = co_await q.get();
            log.push_back(name + "=" + std::to_string(v));
        } catch (const aio::QueueShutDown&) {
            log.push_back(name + " shutdown");
        }
    };
    auto g0 = aio::create_task(getter, std::string("g0"));
    auto g1 = aio::create_task(getter, std::string("g1"));
    auto g2 = aio::create_task(getter, std::string("g2"));
    co_await yield_once();
    q.shutdown();
    co_await g0;
    co_await g1;
    co_await g2;
    EXPECT_EQ(log, (Log{"g0 shutdown", "g1 shutdown", "g2 shutdown"}));
}

AIO_TEST(Queue, ShutdownWakesBlockedPutterAndLetsGetDrain) {
    // asyncio: ['putter shutdown', ('qsize', 1), ('get', 'a'), 'get shutdown', 'joined']
    aio::Queue<std::string> q(1);
    q.put_nowait("a");
    Log log;
    auto putter = aio::create_task([&]() -> aio::Coro<> {
        try {
            co_await q.put(std::string("b"));
        } catch (const aio::QueueShutDown&) {
            log.push_back("putter shutdown");
        }
    });
    auto joiner = aio::create_task([&]() -> aio::Coro<> {
        co_await q.join();
        log.push_back("joined");
    });
    co_await yield_once();
    q.shutdown();
    co_await yield_once();
    log.push_back("qsize " + std::to_string(q.qsize()));
    log.push_back("get " + co_await q.get());
    try {
        (void)co_await q.get();
    } catch (const aio::QueueShutDown&) {
        log.push_back("get shutdown");
    }
    q.task_done();
    co_await yield_once();
    co_await putter;
    co_await joiner;
    EXPECT_EQ(log, (Log{"putter shutdown", "qsize 1", "get a", "get shutdown", "joined"}));
}

AIO_TEST(Queue, ShutdownImmediateEmptiesWakesAndReleasesJoin) {
    // asyncio: [('qsize', 2, 2), ('after', 0, 0), 'j1', 'j2', 'putter shutdown',
    //           ('g', 'shutdown')]
    aio::Queue<int> q(2);
    Log log;
    auto joiner = [&](std::string name) -> aio::Coro<> {
        co_await q.join();
        log.push_back(name);
    };
    auto j1 = aio::create_task(joiner, std::string("j1"));
    q.put_nowait(1);
    q.put_nowait(2);
    auto putter = aio::create_task([&]() -> aio::Coro<> {
        try {
            co_await q.put(3);
            log.push_back("put 3");
        } catch (const aio::QueueShutDown&) {
            log.push_back("putter shutdown");
        }
    });
    auto j2 = aio::create_task(joiner, std::string("j2"));
    co_await yield_once();
    log.push_back("qsize " + std::to_string(q.qsize()));
    q.shutdown(true);
    log.push_back("after " + std::to_string(q.qsize()));
    auto getter = aio::create_task([&]() -> aio::Coro<> {
        try {
            (void)co_await q.get();
        } catch (const aio::QueueShutDown&) {
            log.push_back("g shutdown");
        }
    });
    co_await getter;
    co_await putter;
    co_await j1;
    co_await j2;
    EXPECT_EQ(log, (Log{"qsize 2", "after 0", "j1", "j2", "putter shutdown", "g shutdown"}));
    EXPECT_THROW(q.task_done(), std::invalid_argument);  // the dropped items counted as done
}

AIO_TEST(Queue, ShutdownImmediateBeatsAWokenGetter) {
    // asyncio: [('g', 'shutdown')], unfinished 0
    aio::Queue<int> q;
    Log log;
    auto getter = aio::create_task([&]() -> aio::Coro<> {
        try {
            log.push_back("got " + std::to_string(co_await q.get()));
        } catch (const aio::QueueShutDown&) {
            log.push_back("shutdown");
        }
    });
    co_await yield_once();
    q.put_nowait(1);  // wakes the getter
    q.shutdown(true);  // drops the item before it runs
    co_await getter;
    EXPECT_EQ(log, Log{"shutdown"});
    co_await q.join();
}

AIO_TEST(Queue, ShutdownImmediateKeepsCountOfItemsAlreadyGotten) {
    aio::Queue<int> q;
    q.put_nowait(1);
    q.put_nowait(2);
    (void)q.get_nowait();  // gotten, not yet done
    bool joined = false;
    auto joiner = aio::create_task([&]() -> aio::Coro<> {
        co_await q.join();
        joined = true;
    });
    co_await yield_once();
    q.shutdown(true);  // drops item 2 (one task done); item 1 still unfinished
    co_await yield_once();
    EXPECT_FALSE(joined);
    q.task_done();
    co_await joiner;
    EXPECT_TRUE(joined);
}

// ---- whole programs ----

AIO_TEST(Queue, ProducerConsumerWithWorkersAndJoin) {
    aio::Queue<int> q(3);
    std::vector<int> processed;
    std::vector<int> per_worker(3, 0);
    auto worker = [&](int id) -> aio::Coro<> {
        for (;;) {
            int job = co_await q.get();
            co_await aio::sleep(std::chrono::milliseconds(job % 7 + 1));
            processed.push_back(job);
            ++per_worker[static_cast<std::size_t>(id)];
            q.task_done();
        }
    };
    std::vector<aio::Task<>> workers;
    for (int i = 0; i < 3; ++i) workers.push_back(aio::create_task(worker, i));
    auto producer = aio::create_task([&]() -> aio::Coro<> {
        for (int job = 0; job < 30; ++job) co_await q.put(job);
    });
    co_await producer;
    co_await q.join();
    EXPECT_EQ(processed.size(), 30u);
    std::vector<int> sorted = processed;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < 30; ++i) EXPECT_EQ(sorted[static_cast<std::size_t>(i)], i);
    for (int n : per_worker) EXPECT_GT(n, 0);
    EXPECT_TRUE(q.empty());
    for (auto& w : workers) w.cancel();
    for (auto& w : workers) EXPECT_THROW(co_await w, aio::CancelledError);
}

AIO_TEST(Queue, PingPongManyRoundTrips) {
    aio::Queue<int> ping, pong;
    constexpr int kRounds = 20000;
    auto echo = aio::create_task([&]() -> aio::Coro<> {
        for (int i = 0; i < kRounds; ++i) {
            int v = co_await ping.get();
            co_await pong.put(v + 1);
        }
    });
    long sum = 0;
    for (int i = 0; i < kRounds; ++i) {
        co_await ping.put(i);
        sum += co_await pong.get();
    }
    co_await echo;
    EXPECT_EQ(sum, static_cast<long>(kRounds) * (kRounds + 1) / 2);
}

// ---- loop close ----

TEST(QueueLoopClose, WaitersDestroyedWhileBlockedLeaveTheQueueUsable) {
    // The queues outlive the loop. At close, tasks blocked in get()/put()/join() (listed)
    // or woken but not yet run (notified) have their frames destroyed; the awaiters must
    // unlink themselves so the queues never touch them again (ASan checks this).
    aio::Queue<int> qa;
    aio::Queue<int> qb(1);
    std::vector<aio::ExceptionContext> reports;
    {
        aio::EventLoop loop(/*virtual_time=*/true);
        loop.set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& c) { reports.push_back(c); });
        qb.put_nowait(0);
        auto setup = [&]() -> aio::Coro<> {
            aio::create_task([&]() -> aio::Coro<> { (void)co_await qa.get(); });
            aio::create_task([&]() -> aio::Coro<> { (void)co_await qa.get(); });
            aio::create_task([&]() -> aio::Coro<> { co_await qb.put(1); });
            aio::create_task([&]() -> aio::Coro<> { co_await qb.put(2); });
            aio::create_task([&]() -> aio::Coro<> { co_await qb.join(); });
            co_await aio::sleep(1ms);  // all five are blocked now
        };
        loop.run_until_complete(setup());
        qa.put_nowait(7);  // notifies the first getter
        EXPECT_EQ(qb.get_nowait(), 0);  // notifies the first putter
        loop.close();
    }
    EXPECT_EQ(reports.size(), 5u);
    for (const auto& r : reports) EXPECT_EQ(r.message, "Task was destroyed but it is pending!");
    EXPECT_EQ(qa.qsize(), 1u);  // the notified getter never took it
    qa.put_nowait(8);
    EXPECT_EQ(qa.get_nowait(), 7);
    EXPECT_EQ(qa.get_nowait(), 8);
    EXPECT_TRUE(qb.empty());  // neither putter added its item
    qb.put_nowait(3);
    EXPECT_EQ(qb.get_nowait(), 3);
    qb.task_done();
    qb.task_done();
    EXPECT_THROW(qb.task_done(), std::invalid_argument);
}

TEST(QueueLoopClose, WaitingInASecondLoopIsAnError) {
    // asyncio's _LoopBoundMixin: the first wait binds the queue to its loop.
    aio::Queue<int> q;
    // Both loops alive at once: the binding compares loop addresses.
    aio::EventLoop first(/*virtual_time=*/true);
    aio::EventLoop second(/*virtual_time=*/true);
    {
        first.run_until_complete([&]() -> aio::Coro<> {
            auto getter = aio::create_task([&]() -> aio::Coro<> { (void)co_await q.get(); });
            co_await aio::sleep(1ms);
            getter.cancel();
            EXPECT_THROW(co_await getter, aio::CancelledError);
        }());
        first.close();
    }
    second.run_until_complete([&]() -> aio::Coro<> {
        q.put_nowait(1);
        EXPECT_EQ(co_await q.get(), 1);  // no wait: no loop check, as in asyncio
        try {
            (void)co_await q.get();
            ADD_FAILURE() << "expected RuntimeError";
        } catch (const aio::RuntimeError& e) {
            EXPECT_STREQ(e.what(), "RuntimeError: Queue is bound to a different event loop");
        }
    }());
    second.close();
}
