#include "aio/locks.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "test_loop.hpp"

using namespace std::chrono_literals;

// Copying or moving a primitive must not compile: waiters point at it.
static_assert(!std::is_copy_constructible_v<aio::Lock> && !std::is_move_constructible_v<aio::Lock>);
static_assert(!std::is_copy_constructible_v<aio::Event> && !std::is_move_constructible_v<aio::Event>);
static_assert(!std::is_copy_constructible_v<aio::Condition> && !std::is_move_constructible_v<aio::Condition>);
static_assert(!std::is_copy_constructible_v<aio::Semaphore> && !std::is_move_constructible_v<aio::Semaphore>);
static_assert(!std::is_copy_constructible_v<aio::BoundedSemaphore> &&
              !std::is_move_constructible_v<aio::BoundedSemaphore>);
static_assert(!std::is_copy_constructible_v<aio::Barrier> && !std::is_move_constructible_v<aio::Barrier>);
static_assert(!std::is_copy_constructible_v<aio::LockGuard> && std::is_nothrow_move_constructible_v<aio::LockGuard>);

namespace {

/// Lets every task that is ready now run one step (asyncio's `await asyncio.sleep(0)`).
aio::Coro<void> tick(int n = 1) {
    for (int i = 0; i < n; ++i) co_await aio::sleep(0ms);
}

template <class E, class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception>";
}

}  // namespace

// ---- Lock --------------------------------------------------------------------------------

AIO_TEST(Lock, FreeLockIsTakenWithoutYielding) {
    aio::Lock lock;
    bool other_ran = false;
    auto other = aio::create_task([&]() -> aio::Coro<> {
        other_ran = true;
        co_return;
    });
    EXPECT_FALSE(lock.locked());
    co_await lock.acquire();
    EXPECT_TRUE(lock.locked());
    EXPECT_FALSE(other_ran);  // asyncio's fast path does not yield
    lock.release();
    EXPECT_FALSE(lock.locked());
    co_await other;
}

// CPython's LockTests.test_acquire: one waiter per release, in arrival order.
AIO_TEST(Lock, WaitersAcquireInFifoOrder) {
    aio::Lock lock;
    std::vector<int> result;
    co_await lock.acquire();
    auto worker = [&](int id) -> aio::Coro<> {
        co_await lock.acquire();
        result.push_back(id);
    };
    auto t1 = aio::create_task(worker, 1);
    auto t2 = aio::create_task(worker, 2);
    co_await tick();
    EXPECT_TRUE(result.empty());
    lock.release();
    co_await tick();
    EXPECT_EQ(result, std::vector<int>{1});
    co_await tick();
    EXPECT_EQ(result, std::vector<int>{1});
    auto t3 = aio::create_task(worker, 3);
    lock.release();
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1, 2}));
    lock.release();
    co_await tick();
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(lock.locked());
    lock.release();
    co_await t1;
    co_await t2;
    co_await t3;
}

AIO_TEST(Lock, ManyTasksGetTheLockInArrivalOrder) {
    aio::Lock lock;
    std::vector<int> order;
    std::vector<aio::Task<>> tasks;
    co_await lock.acquire();
    for (int i = 0; i < 6; ++i) {
        tasks.push_back(aio::create_task(
            [&](int id) -> aio::Coro<> {
                co_await lock.acquire();
                order.push_back(id);
                co_await aio::sleep(1ms);  // hold it across a suspension
                lock.release();
            },
            i));
    }
    co_await tick();
    lock.release();
    for (auto& t : tasks) co_await t;
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_FALSE(lock.locked());
}

AIO_TEST(Lock, NewcomerCannotBargeAheadOfAWokenWaiter) {
    aio::Lock lock;
    std::vector<std::string> order;
    co_await lock.acquire();
    auto b = aio::create_task([&]() -> aio::Coro<> {
        co_await lock.acquire();
        order.push_back("B");
        lock.release();
    });
    co_await tick();
    lock.release();  // B is woken but has not run yet
    EXPECT_FALSE(lock.locked());
    co_await lock.acquire();  // must queue behind B (3.13 fairness), not take it
    order.push_back("main");
    lock.release();
    EXPECT_EQ(order, (std::vector<std::string>{"B", "main"}));
    co_await b;
}

AIO_TEST(Lock, CancelledWaiterInTheMiddleNeitherTakesNorLosesTheLock) {
    aio::Lock lock;
    std::vector<int> order;
    std::vector<aio::Task<>> tasks;
    co_await lock.acquire();
    for (int i = 0; i < 5; ++i) {
        tasks.push_back(aio::create_task(
            [&](int id) -> aio::Coro<> {
                co_await lock.acquire();
                order.push_back(id);
                co_await tick();
                lock.release();
            },
            i));
    }
    co_await tick();
    EXPECT_TRUE(tasks[2].cancel());
    co_await tick();
    EXPECT_TRUE(tasks[2].done());
    EXPECT_TRUE(tasks[2].cancelled());
    EXPECT_TRUE(lock.locked());  // still ours
    lock.release();
    for (int i : {0, 1, 3, 4}) co_await tasks[static_cast<std::size_t>(i)];
    EXPECT_EQ(order, (std::vector<int>{0, 1, 3, 4}));
    EXPECT_FALSE(lock.locked());
    co_await lock.acquire();  // nothing is left queued: the fast path works again
    lock.release();
}

// CPython's test_cancel_race: the woken head is cancelled before it runs; the next
// waiter must get the lock.
AIO_TEST(Lock, WokenThenCancelledWaiterPassesTheWakeUpOn) {
    aio::Lock lock;
    std::vector<std::string> got;
    co_await lock.acquire();
    auto lockit = [&](std::string name) -> aio::Coro<> {
        co_await lock.acquire();
        got.push_back(name);
        lock.release();
    };
    auto b = aio::create_task(lockit, std::string("B"));
    auto c = aio::create_task(lockit, std::string("C"));
    co_await tick();
    lock.release();  // wakes B
    b.cancel();      // … which is cancelled before it runs
    co_await tick();
    EXPECT_TRUE(b.cancelled());
    co_await c;
    EXPECT_EQ(got, std::vector<std::string>{"C"});
    EXPECT_FALSE(lock.locked());
}

// CPython's test_cancel_release_race (bpo-32734): cancel the first waiter and release
// in one callback; exactly one waiter gets the lock.
AIO_TEST(Lock, CancelAndReleaseInOneStepTakeTheLockOnce) {
    aio::Lock lock;
    int lock_count = 0;
    int call_count = 0;
    auto lockit = [&]() -> aio::Coro<> {
        ++call_count;
        co_await lock.acquire();
        ++lock_count;
    };
    co_await lock.acquire();
    auto t1 = aio::create_task(lockit);
    auto t2 = aio::create_task(lockit);
    auto t3 = aio::create_task(lockit);
    co_await tick();
    aio::get_running_loop().call_soon([&] {
        t1.cancel();
        lock.release();
    });
    EXPECT_THROW(co_await t1, aio::CancelledError);
    co_await tick();
    EXPECT_EQ(lock_count, 1);
    EXPECT_EQ(call_count, 3);
    EXPECT_TRUE(t2.done());
    EXPECT_FALSE(t3.done());
    t3.cancel();
    EXPECT_THROW(co_await t3, aio::CancelledError);
    EXPECT_TRUE(lock.locked());  // t2 finished holding it
    lock.release();
}

AIO_TEST(Lock, PendingCancelIsRaisedOnlyIfAcquireSuspends) {
    aio::Lock lock;
    // Free lock: taken at once, and the cancel waits for the next suspension (asyncio).
    auto fast = aio::create_task([&]() -> aio::Coro<int> {
        aio::current_task().cancel();
        co_await lock.acquire();
        int step = 1;
        try {
            co_await tick();
            step = 2;
        } catch (const aio::CancelledError&) {
            lock.release();
            throw;
        }
        co_return step;
    });
    EXPECT_THROW(co_await fast, aio::CancelledError);
    EXPECT_FALSE(lock.locked());

    // Held lock: the acquire raises and does not queue.
    co_await lock.acquire();
    auto slow = aio::create_task([&]() -> aio::Coro<> {
        aio::current_task().cancel();
        co_await lock.acquire();
        ADD_FAILURE() << "acquired a held lock";
    });
    EXPECT_THROW(co_await slow, aio::CancelledError);
    lock.release();
    EXPECT_FALSE(lock.locked());
    co_await lock.acquire();  // nobody queued
    lock.release();
}

AIO_TEST(Lock, ScopedReleasesOnException) {
    aio::Lock lock;
    bool waiter_got_it = false;
    std::string error;
    try {
        auto held = co_await lock.scoped();
        EXPECT_TRUE(held.owns());
        EXPECT_TRUE(lock.locked());
        throw std::runtime_error("boom");
    } catch (const std::runtime_error& e) {
        error = e.what();
    }
    EXPECT_EQ(error, "boom");
    EXPECT_FALSE(lock.locked());

    // With a waiter queued, the exception path hands the lock on.
    auto holder = aio::create_task([&]() -> aio::Coro<> {
        auto held = co_await lock.scoped();
        co_await tick();
        throw std::runtime_error("inside");
    });
    co_await tick();
    auto waiter = aio::create_task([&]() -> aio::Coro<> {
        auto held = co_await lock.scoped();
        waiter_got_it = true;
    });
    EXPECT_THROW(co_await holder, std::runtime_error);
    co_await waiter;
    EXPECT_TRUE(waiter_got_it);
    EXPECT_FALSE(lock.locked());
}

AIO_TEST(Lock, GuardMovesAndCanReleaseEarly) {
    aio::Lock lock;
    aio::LockGuard outer;
    EXPECT_FALSE(outer.owns());
    {
        auto held = co_await lock.scoped();
        outer = std::move(held);
        EXPECT_FALSE(held.owns());  // NOLINT(bugprone-use-after-move): moved-from is empty
    }
    EXPECT_TRUE(lock.locked());  // the moved-from guard released nothing
    EXPECT_TRUE(static_cast<bool>(outer));
    outer.release();
    EXPECT_FALSE(lock.locked());
    EXPECT_EQ(error_of<aio::RuntimeError>([&] { outer.release(); }),
              "RuntimeError: LockGuard holds nothing to release");
}

AIO_TEST(Lock, GuardReportsAFailedReleaseInsteadOfThrowingFromItsDestructor) {
    aio::Lock lock;
    {
        auto held = co_await lock.scoped();
        lock.release();  // misuse: released by hand while the guard holds it
    }
    auto reports = loop.take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "LockGuard could not release on scope exit");
    EXPECT_NE(aio::describe(reports[0].exception).find("RuntimeError: Lock is not acquired."), std::string::npos);
}

AIO_TEST(Lock, ReleasingAnUnlockedLockRaises) {
    aio::Lock lock;
    EXPECT_EQ(error_of<aio::RuntimeError>([&] { lock.release(); }), "RuntimeError: Lock is not acquired.");
    co_await lock.acquire();
    lock.release();
    EXPECT_EQ(error_of<aio::RuntimeError>([&] { lock.release(); }), "RuntimeError: Lock is not acquired.");
}

TEST(Lock, BoundToTheLoopOfItsFirstWaiter) {
    aio::Lock lock;
    auto contend = [&]() -> aio::Coro<void> {
        co_await lock.acquire();
        auto waiter = aio::create_task([&]() -> aio::Coro<> {
            co_await lock.acquire();
            lock.release();
        });
        co_await aio::sleep(0ms);
        lock.release();
        co_await waiter;
    };
    // Both loops stay alive, so the second cannot reuse the first one's address.
    aio::test::TestLoop first;
    first.run(contend());
    aio::test::TestLoop second;
    std::string error;
    try {
        second.run(contend());
    } catch (const aio::RuntimeError& e) {
        error = e.what();
    }
    EXPECT_EQ(error, "RuntimeError: aio::Lock is bound to a different event loop");
    EXPECT_TRUE(second.take_reports().empty());
}

// ---- Event -------------------------------------------------------------------------------

AIO_TEST(Event, SetWakesEveryWaiter) {
    aio::Event ev;
    std::vector<int> woke;
    std::vector<aio::Task<>> tasks;
    for (int i = 0; i < 3; ++i) {
        tasks.push_back(aio::create_task(
            [&](int id) -> aio::Coro<> {
                co_await ev.wait();
                woke.push_back(id);
            },
            i));
    }
    co_await tick(3);
    EXPECT_TRUE(woke.empty());
    EXPECT_FALSE(ev.is_set());
    ev.set();
    EXPECT_TRUE(ev.is_set());
    co_await tick();
    EXPECT_EQ(woke, (std::vector<int>{0, 1, 2}));
    for (auto& t : tasks) co_await t;
}

AIO_TEST(Event, WaitOnASetEventCompletesWithoutYielding) {
    aio::Event ev;
    ev.set();
    bool other_ran = false;
    auto other = aio::create_task([&]() -> aio::Coro<> {
        other_ran = true;
        co_return;
    });
    co_await ev.wait();
    EXPECT_FALSE(other_ran);
    ev.set();  // already set: no-op
    ev.clear();
    EXPECT_FALSE(ev.is_set());
    co_await other;
}

AIO_TEST(Event, ClearBeforeWokenWaitersRunStillReleasesThem) {
    aio::Event ev;
    int woke = 0;
    auto a = aio::create_task([&]() -> aio::Coro<> {
        co_await ev.wait();
        ++woke;
    });
    co_await tick();
    ev.set();
    ev.clear();  // asyncio: a waiter woken by set() returns even so
    co_await a;
    EXPECT_EQ(woke, 1);
    // A later waiter blocks until the next set().
    auto b = aio::create_task([&]() -> aio::Coro<> {
        co_await ev.wait();
        ++woke;
    });
    co_await tick(2);
    EXPECT_EQ(woke, 1);
    ev.set();
    co_await b;
    EXPECT_EQ(woke, 2);
}

AIO_TEST(Event, CancelledWaiterIsRemovedAndRaises) {
    aio::Event ev;
    std::vector<int> woke;
    auto waiter = [&](int id) -> aio::Coro<> {
        co_await ev.wait();
        woke.push_back(id);
    };
    auto a = aio::create_task(waiter, 0);
    auto b = aio::create_task(waiter, 1);
    auto c = aio::create_task(waiter, 2);
    co_await tick();
    b.cancel();
    co_await tick();
    EXPECT_TRUE(b.cancelled());
    ev.set();
    c.cancel();  // woken, then cancelled before it runs: raises (nothing to pass on)
    co_await a;
    EXPECT_THROW(co_await b, aio::CancelledError);
    EXPECT_THROW(co_await c, aio::CancelledError);
    EXPECT_EQ(woke, std::vector<int>{0});
}

// ---- Condition ---------------------------------------------------------------------------

// CPython's ConditionTests.test_notify.
AIO_TEST(Condition, NotifyWakesWaitersOneByOneInFifoOrder) {
    aio::Condition cond;
    std::vector<int> result;
    auto waiter = [&](int id) -> aio::Coro<> {
        auto held = co_await cond.scoped();
        co_await cond.wait();
        EXPECT_TRUE(cond.locked());
        result.push_back(id);
    };
    auto t1 = aio::create_task(waiter, 1);
    auto t2 = aio::create_task(waiter, 2);
    auto t3 = aio::create_task(waiter, 3);
    co_await tick();
    EXPECT_TRUE(result.empty());
    EXPECT_FALSE(cond.locked());  // every waiter released it
    {
        auto held = co_await cond.scoped();
        cond.notify(1);
    }
    co_await tick(2);
    EXPECT_EQ(result, std::vector<int>{1});
    {
        auto held = co_await cond.scoped();
        cond.notify(1);
        cond.notify(2048);
    }
    co_await tick(2);
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
    co_await t1;
    co_await t2;
    co_await t3;
    EXPECT_FALSE(cond.locked());
}

AIO_TEST(Condition, NotifyAllWakesEveryWaiter) {
    aio::Condition cond;
    std::vector<int> result;
    std::vector<aio::Task<>> tasks;
    for (int i = 0; i < 4; ++i) {
        tasks.push_back(aio::create_task(
            [&](int id) -> aio::Coro<> {
                auto held = co_await cond.scoped();
                co_await cond.wait();
                result.push_back(id);
            },
            i));
    }
    co_await tick();
    co_await cond.acquire();
    cond.notify_all();
    cond.notify_all();  // nobody left to wake: no-op
    cond.release();
    for (auto& t : tasks) co_await t;
    EXPECT_EQ(result, (std::vector<int>{0, 1, 2, 3}));
}

AIO_TEST(Condition, NotifiedWaiterReturnsOnlyAfterTheNotifierReleases) {
    aio::Condition cond;
    bool returned = false;
    auto waiter = aio::create_task([&]() -> aio::Coro<> {
        auto held = co_await cond.scoped();
        co_await cond.wait();
        returned = true;
    });
    co_await tick();
    co_await cond.acquire();
    cond.notify();
    co_await tick(3);
    EXPECT_FALSE(returned);  // woken, now queued for the lock we hold
    EXPECT_FALSE(waiter.done());
    cond.release();
    co_await waiter;
    EXPECT_TRUE(returned);
}

// CPython's ConditionTests.test_wait_for.
AIO_TEST(Condition, WaitForChecksThePredicateAfterEachNotify) {
    aio::Condition cond;
    bool presult = false;
    int calls = 0;
    auto predicate = [&] {
        ++calls;
        return presult;
    };
    std::vector<int> result;
    auto t = aio::create_task([&]() -> aio::Coro<> {
        auto held = co_await cond.scoped();
        bool value = co_await cond.wait_for(predicate);
        EXPECT_TRUE(value);
        result.push_back(1);
    });
    co_await tick();
    EXPECT_EQ(calls, 1);
    co_await cond.acquire();
    cond.notify();
    cond.release();
    co_await tick(2);
    EXPECT_TRUE(result.empty());
    EXPECT_EQ(calls, 2);  // woken, predicate still false: waits again
    presult = true;
    co_await cond.acquire();
    cond.notify();
    cond.release();
    co_await t;
    EXPECT_EQ(result, std::vector<int>{1});
    EXPECT_EQ(calls, 3);
}

AIO_TEST(Condition, WaitForReturnsThePredicatesValueAndDoesNotWaitIfTrue) {
    aio::Condition cond;
    int items = 0;
    auto consumer = aio::create_task([&]() -> aio::Coro<int> {
        auto held = co_await cond.scoped();
        int got = co_await cond.wait_for([&] { return items; });
        items = 0;
        co_return got;
    });
    co_await tick();
    {
        auto held = co_await cond.scoped();
        items = 7;
        cond.notify();
    }
    EXPECT_EQ(co_await consumer, 7);
    // True at once: no suspension, and the lock need not be released.
    items = 3;
    co_await cond.acquire();
    EXPECT_EQ(co_await cond.wait_for([&] { return items; }), 3);
    EXPECT_TRUE(cond.locked());
    cond.release();
}

AIO_TEST(Condition, CancelledWaitReacquiresTheLockBeforeRaising) {
    aio::Condition cond;
    bool locked_when_raised = false;
    std::string message;
    auto waiter = aio::create_task([&]() -> aio::Coro<> {
        auto held = co_await cond.scoped();
        try {
            co_await cond.wait();
        } catch (const aio::CancelledError& e) {
            locked_when_raised = cond.locked();
            message = e.message();
            throw;
        }
    });
    co_await tick();
    EXPECT_FALSE(cond.locked());
    co_await cond.acquire();  // contend: the waiter must queue for the lock
    waiter.cancel("stop");
    co_await tick(3);
    EXPECT_FALSE(waiter.done());  // cancelled, but not before it has the lock again
    cond.release();
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_TRUE(locked_when_raised);  // we had released it: the waiter held it
    EXPECT_EQ(message, "stop");
    EXPECT_FALSE(cond.locked());  // its guard released it on the way out
}

// CPython's test_cancelled_wakeup: a waiter cancelled after notify() and before it runs
// passes the notification on, so no wake-up is lost.
AIO_TEST(Condition, WokenThenCancelledWaiterPassesTheNotificationOn) {
    aio::Condition cond;
    int state = 0;
    int consumed = 0;
    auto consumer = [&]() -> aio::Coro<> {
        auto held = co_await cond.scoped();
        for (;;) {
            co_await cond.wait_for([&] { return state != 0; });
            if (state < 0) co_return;
            --state;
            ++consumed;
        }
    };
    auto c0 = aio::create_task(consumer);
    auto c1 = aio::create_task(consumer);
    co_await tick();
    {
        auto held = co_await cond.scoped();
        state += 1;
        cond.notify(1);  // wakes c0
        c0.cancel();     // … which is cancelled before it runs
    }
    co_await tick(3);
    EXPECT_TRUE(c0.cancelled());
    EXPECT_EQ(state, 0);  // c1 got the notification c0 could not use
    EXPECT_EQ(consumed, 1);
    {
        auto held = co_await cond.scoped();
        state = -1;
        cond.notify_all();
    }
    EXPECT_THROW(co_await c0, aio::CancelledError);
    co_await c1;
    EXPECT_FALSE(cond.locked());
}

AIO_TEST(Condition, MisuseRaisesWithAsyncioMessages) {
    aio::Condition cond;
    EXPECT_EQ(error_of<aio::RuntimeError>([&] { cond.notify(); }),
              "RuntimeError: cannot notify on un-acquired lock");
    EXPECT_EQ(error_of<aio::RuntimeError>([&] { cond.notify_all(); }),
              "RuntimeError: cannot notify on un-acquired lock");
    EXPECT_EQ(error_of<aio::RuntimeError>([&] { cond.release(); }), "RuntimeError: Lock is not acquired.");
    std::string error;
    try {
        co_await cond.wait();
    } catch (const aio::RuntimeError& e) {
        error = e.what();
    }
    EXPECT_EQ(error, "RuntimeError: cannot wait on un-acquired lock");
    error.clear();
    try {
        co_await cond.wait_for([] { return false; });
    } catch (const aio::RuntimeError& e) {
        error = e.what();
    }
    EXPECT_EQ(error, "RuntimeError: cannot wait on un-acquired lock");
    EXPECT_FALSE(cond.locked());
}

AIO_TEST(Condition, UsesTheLockItIsGiven) {
    aio::Lock lock;
    aio::Condition cond(&lock);
    EXPECT_EQ(&cond.lock(), &lock);
    co_await lock.acquire();
    EXPECT_TRUE(cond.locked());
    cond.notify();  // allowed: the shared lock is held
    bool woke = false;
    auto waiter = aio::create_task([&]() -> aio::Coro<> {
        auto held = co_await cond.scoped();
        co_await cond.wait();
        woke = lock.locked();
    });
    cond.release();
    co_await tick();
    EXPECT_FALSE(lock.locked());  // wait() released the shared lock
    co_await lock.acquire();
    cond.notify();
    lock.release();
    co_await waiter;
    EXPECT_TRUE(woke);
    EXPECT_FALSE(lock.locked());
}

// ---- Semaphore ---------------------------------------------------------------------------

AIO_TEST(Semaphore, NeverMoreHoldersThanPermits) {
    aio::Semaphore sem(3);
    int current = 0;
    int peak = 0;
    std::vector<int> entered;
    std::vector<aio::Task<>> tasks;
    for (int i = 0; i < 10; ++i) {
        tasks.push_back(aio::create_task(
            [&](int id) -> aio::Coro<> {
                auto held = co_await sem.scoped();
                entered.push_back(id);
                peak = std::max(peak, ++current);
                EXPECT_LE(current, 3);
                co_await aio::sleep(std::chrono::milliseconds(1 + id % 3));
                --current;
            },
            i));
    }
    for (auto& t : tasks) co_await t;
    EXPECT_EQ(peak, 3);
    EXPECT_EQ(entered, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(sem.value(), 3);
    EXPECT_FALSE(sem.locked());
}

// CPython 3.13's test_acquire_fifo_order: a task releasing and re-acquiring goes to the
// back of the queue.
AIO_TEST(Semaphore, ReacquiringTaskQueuesBehindTheOthers) {
    aio::Semaphore sem(1);
    std::vector<std::string> result;
    auto coro = [&](std::string tag) -> aio::Coro<> {
        co_await sem.acquire();
        result.push_back(tag + "_1");
        co_await aio::sleep(10ms);
        sem.release();
        co_await sem.acquire();
        result.push_back(tag + "_2");
        co_await aio::sleep(10ms);
        sem.release();
    };
    auto c1 = aio::create_task(coro, std::string("c1"));
    auto c2 = aio::create_task(coro, std::string("c2"));
    auto c3 = aio::create_task(coro, std::string("c3"));
    co_await c1;
    co_await c2;
    co_await c3;
    EXPECT_EQ(result, (std::vector<std::string>{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"}));
}

// CPython 3.13's test_acquire_fifo_order_2.
AIO_TEST(Semaphore, FreePermitDoesNotLetANewcomerJumpTheQueue) {
    aio::Semaphore sem(1);
    std::vector<int> result;
    auto t1 = aio::create_task([&]() -> aio::Coro<> {
        co_await sem.acquire();
        result.push_back(1);
    });
    auto t2 = aio::create_task([&]() -> aio::Coro<> {
        co_await sem.acquire();
        result.push_back(2);
        sem.release();
        co_await sem.acquire();
        result.push_back(4);
    });
    auto t3 = aio::create_task([&]() -> aio::Coro<> {
        co_await sem.acquire();
        result.push_back(3);
    });
    co_await tick();
    sem.release();
    sem.release();
    co_await t1;
    co_await t2;
    co_await t3;
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3, 4}));
}

// CPython 3.13's test_acquire_fifo_order_4: a successful acquire wakes the waiters that
// queued behind it while permits were free.
AIO_TEST(Semaphore, SuccessfulAcquireWakesWaitersQueuedByFifoRules) {
    aio::Semaphore sem(0);
    std::vector<int> result;
    aio::Task<> t4;
    auto c4 = [&]() -> aio::Coro<> {
        result.push_back(4);
        co_return;
    };
    auto t1 = aio::create_task([&]() -> aio::Coro<> {
        EXPECT_EQ(sem.value(), 0);
        co_await sem.acquire();
        EXPECT_EQ(sem.value(), 0);  // c2 and c3 were woken (handed the other permits)
        t4 = aio::create_task(c4);  // runs after c3, not before c2
        result.push_back(1);
    });
    auto t2 = aio::create_task([&]() -> aio::Coro<> {
        sem.release();
        sem.release();
        sem.release();
        EXPECT_EQ(sem.value(), 2);
        EXPECT_TRUE(sem.locked());  // c1 is woken but has not run: FIFO
        co_await sem.acquire();
        result.push_back(2);
    });
    auto t3 = aio::create_task([&]() -> aio::Coro<> {
        co_await sem.acquire();
        EXPECT_TRUE(sem.locked());
        result.push_back(3);
    });
    co_await t1;
    co_await t2;
    co_await t3;
    co_await t4;
    EXPECT_EQ(result, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(sem.value(), 0);
}

AIO_TEST(Semaphore, CancelledWaiterInTheMiddleNeitherTakesNorLosesAPermit) {
    aio::Semaphore sem(2);
    std::vector<int> order;
    std::vector<aio::Task<>> tasks;
    co_await sem.acquire();
    co_await sem.acquire();
    EXPECT_EQ(sem.value(), 0);
    for (int i = 0; i < 5; ++i) {
        tasks.push_back(aio::create_task(
            [&](int id) -> aio::Coro<> {
                auto held = co_await sem.scoped();
                order.push_back(id);
                co_await tick();
            },
            i));
    }
    co_await tick();
    tasks[2].cancel();
    co_await tick();
    EXPECT_TRUE(tasks[2].cancelled());
    EXPECT_EQ(sem.value(), 0);
    sem.release();
    sem.release();
    for (int i : {0, 1, 3, 4}) co_await tasks[static_cast<std::size_t>(i)];
    EXPECT_EQ(order, (std::vector<int>{0, 1, 3, 4}));
    EXPECT_EQ(sem.value(), 2);
    EXPECT_FALSE(sem.locked());
}

// CPython 3.13's test_acquire_fifo_order_3 (cancelled before the releases).
AIO_TEST(Semaphore, CancelledFirstWaiterIsSkipped) {
    aio::Semaphore sem(0);
    std::vector<int> result;
    auto worker = [&](int id) -> aio::Coro<> {
        co_await sem.acquire();
        result.push_back(id);
    };
    auto t1 = aio::create_task(worker, 1);
    auto t2 = aio::create_task(worker, 2);
    auto t3 = aio::create_task(worker, 3);
    co_await tick();
    t1.cancel();
    co_await tick();
    sem.release();
    sem.release();
    EXPECT_THROW(co_await t1, aio::CancelledError);
    co_await t2;
    co_await t3;
    EXPECT_EQ(result, (std::vector<int>{2, 3}));
    EXPECT_EQ(sem.value(), 0);
}

AIO_TEST(Semaphore, WokenThenCancelledWaiterGivesThePermitToTheNext) {
    aio::Semaphore sem(0);
    std::vector<std::string> got;
    auto worker = [&](std::string name) -> aio::Coro<> {
        co_await sem.acquire();
        got.push_back(name);
    };
    auto a = aio::create_task(worker, std::string("A"));
    auto b = aio::create_task(worker, std::string("B"));
    co_await tick();
    sem.release();  // handed to A
    EXPECT_EQ(sem.value(), 0);
    a.cancel();  // A is cancelled before it runs
    EXPECT_THROW(co_await a, aio::CancelledError);
    co_await b;
    EXPECT_EQ(got, std::vector<std::string>{"B"});
    EXPECT_EQ(sem.value(), 0);

    // Nobody else waiting: the permit goes back to the semaphore.
    auto c = aio::create_task(worker, std::string("C"));
    co_await tick();
    sem.release();
    c.cancel();
    EXPECT_THROW(co_await c, aio::CancelledError);
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
    EXPECT_EQ(got, std::vector<std::string>{"B"});
}

AIO_TEST(Semaphore, ScopedGivesThePermitBackOnException) {
    aio::Semaphore sem(1);
    try {
        auto held = co_await sem.scoped();
        EXPECT_EQ(sem.value(), 0);
        EXPECT_TRUE(sem.locked());
        throw std::runtime_error("boom");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
}

TEST(Semaphore, NegativeInitialValueIsRejected) {
    EXPECT_EQ(error_of<std::invalid_argument>([] { aio::Semaphore s(-1); }), "Semaphore initial value must be >= 0");
    EXPECT_EQ(error_of<std::invalid_argument>([] { aio::BoundedSemaphore s(-1); }),
              "Semaphore initial value must be >= 0");
    aio::Semaphore zero(0);
    EXPECT_TRUE(zero.locked());
    EXPECT_EQ(zero.value(), 0);
    aio::Semaphore unbounded(1);
    unbounded.release();  // a plain Semaphore may go above its initial value
    EXPECT_EQ(unbounded.value(), 2);
}

AIO_TEST(BoundedSemaphore, ReleasingAboveTheInitialValueRaises) {
    aio::BoundedSemaphore sem(2);
    EXPECT_EQ(error_of<std::invalid_argument>([&] { sem.release(); }), "BoundedSemaphore released too many times");
    EXPECT_EQ(sem.value(), 2);
    co_await sem.acquire();
    co_await sem.acquire();
    sem.release();
    sem.release();
    EXPECT_EQ(error_of<std::invalid_argument>([&] { sem.release(); }), "BoundedSemaphore released too many times");
    EXPECT_EQ(sem.value(), 2);
    {
        auto held = co_await sem.scoped();
        EXPECT_EQ(sem.value(), 1);
    }
    EXPECT_EQ(sem.value(), 2);
}

// ---- Barrier -----------------------------------------------------------------------------

AIO_TEST(Barrier, ThreePartiesGetDistinctIndicesRoundAfterRound) {
    aio::Barrier barrier(3);
    EXPECT_EQ(barrier.parties(), 3);
    struct Pass {
        int round, task, index;
        bool operator==(const Pass&) const = default;
    };
    std::vector<Pass> passes;
    std::vector<aio::Task<>> tasks;
    for (int i = 0; i < 3; ++i) {
        tasks.push_back(aio::create_task(
            [&](int id) -> aio::Coro<> {
                for (int round = 0; round < 2; ++round) {
                    int index = co_await barrier.wait();
                    passes.push_back(Pass{round, id, index});
                }
            },
            i));
    }
    co_await tick();
    EXPECT_EQ(barrier.n_waiting(), 0);  // round 1 already released: draining
    for (auto& t : tasks) co_await t;
    // The same trace as CPython 3.13: the releasing task returns first; in round 2 the
    // task that drained last arrives first (the others were blocked by the draining).
    const std::vector<Pass> expected{{0, 2, 2}, {0, 0, 0}, {0, 1, 1}, {1, 0, 2}, {1, 1, 0}, {1, 2, 1}};
    EXPECT_EQ(passes, expected);
    EXPECT_EQ(barrier.n_waiting(), 0);
    EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, WaitersCountUntilTheRoundIsFull) {
    aio::Barrier barrier(3);
    auto a = aio::create_task([&]() -> aio::Coro<int> { co_return co_await barrier.wait(); });
    auto b = aio::create_task([&]() -> aio::Coro<int> { co_return co_await barrier.wait(); });
    co_await tick();
    EXPECT_EQ(barrier.n_waiting(), 2);
    EXPECT_FALSE(a.done());
    int mine = co_await barrier.wait();
    EXPECT_EQ(mine, 2);
    EXPECT_EQ(co_await a, 0);
    EXPECT_EQ(co_await b, 1);
    EXPECT_EQ(barrier.n_waiting(), 0);
}

AIO_TEST(Barrier, NewcomersWaitWhileTheRoundDrains) {
    aio::Barrier barrier(2);
    std::vector<std::string> order;
    auto waiter = [&](std::string name) -> aio::Coro<> {
        int i = co_await barrier.wait();
        order.push_back(name + ":" + std::to_string(i));
    };
    auto first = aio::create_task(waiter, std::string("first"));
    co_await tick();
    int mine = co_await barrier.wait();  // releases the round; `first` has not run yet
    order.push_back("main:" + std::to_string(mine));
    auto late = aio::create_task(waiter, std::string("late"));
    // Still draining (`first` is inside): main is held back until the round refills,
    // so `late`, created after, arrives first.
    int again = co_await barrier.wait();
    order.push_back("main:" + std::to_string(again));
    co_await first;
    co_await late;
    EXPECT_EQ(order, (std::vector<std::string>{"main:1", "first:0", "main:1", "late:0"}));
}

AIO_TEST(Barrier, AbortRaisesBrokenBarrierErrorInWaiters) {
    aio::Barrier barrier(3);
    auto waiter = [&]() -> aio::Coro<int> { co_return co_await barrier.wait(); };
    auto a = aio::create_task(waiter);
    auto b = aio::create_task(waiter);
    co_await tick();
    EXPECT_EQ(barrier.n_waiting(), 2);
    barrier.abort();
    EXPECT_TRUE(barrier.broken());
    EXPECT_EQ(barrier.n_waiting(), 0);
    EXPECT_THROW(co_await a, aio::BrokenBarrierError);
    EXPECT_THROW(co_await b, aio::BrokenBarrierError);
    // Broken until reset: new waiters fail at once.
    EXPECT_THROW(co_await barrier.wait(), aio::BrokenBarrierError);
    EXPECT_TRUE(barrier.broken());
    barrier.reset();
    EXPECT_FALSE(barrier.broken());
    auto c = aio::create_task(waiter);
    auto d = aio::create_task(waiter);
    int mine = co_await barrier.wait();  // main arrives first
    EXPECT_EQ(mine, 0);
    EXPECT_EQ(co_await c, 1);
    EXPECT_EQ(co_await d, 2);
}

AIO_TEST(Barrier, ResetBreaksTheCurrentRoundThenRefills) {
    aio::Barrier barrier(3);
    auto waiter = [&]() -> aio::Coro<int> { co_return co_await barrier.wait(); };
    auto a = aio::create_task(waiter);
    auto b = aio::create_task(waiter);
    co_await tick();
    EXPECT_EQ(barrier.n_waiting(), 2);
    barrier.reset();
    EXPECT_EQ(barrier.n_waiting(), 0);  // resetting until a and b have left
    EXPECT_FALSE(barrier.broken());
    auto c = aio::create_task(waiter);
    auto d = aio::create_task(waiter);
    // Main arrives while resetting: it is counted only after the refill, behind c and d.
    int mine = co_await barrier.wait();
    EXPECT_EQ(mine, 2);
    EXPECT_THROW(co_await a, aio::BrokenBarrierError);
    EXPECT_THROW(co_await b, aio::BrokenBarrierError);
    EXPECT_EQ(co_await c, 0);
    EXPECT_EQ(co_await d, 1);
    EXPECT_EQ(barrier.n_waiting(), 0);
}

AIO_TEST(Barrier, CancelledWaiterLeavesWithoutBreakingIt) {
    aio::Barrier barrier(3);
    auto waiter = [&]() -> aio::Coro<int> { co_return co_await barrier.wait(); };
    auto t0 = aio::create_task(waiter);
    auto t1 = aio::create_task(waiter);
    co_await tick();
    EXPECT_EQ(barrier.n_waiting(), 2);
    t0.cancel();
    co_await tick();
    EXPECT_TRUE(t0.cancelled());
    EXPECT_EQ(barrier.n_waiting(), 1);
    EXPECT_FALSE(barrier.broken());
    auto t2 = aio::create_task(waiter);
    auto t3 = aio::create_task(waiter);
    // As in CPython: indices are arrival counts, so the seat t0 left is reused.
    EXPECT_EQ(co_await t1, 1);
    EXPECT_EQ(co_await t2, 1);
    EXPECT_EQ(co_await t3, 2);
}

AIO_TEST(Barrier, OnePartyPassesAtOnce) {
    aio::Barrier barrier(1);
    EXPECT_EQ(co_await barrier.wait(), 0);
    EXPECT_EQ(co_await barrier.wait(), 0);
    EXPECT_EQ(barrier.n_waiting(), 0);
}

TEST(Barrier, PartiesMustBePositive) {
    EXPECT_EQ(error_of<std::invalid_argument>([] { aio::Barrier b(0); }), "parties must be > 0");
    EXPECT_EQ(error_of<std::invalid_argument>([] { aio::Barrier b(-2); }), "parties must be > 0");
}
