#include "aio/loop.hpp"

#include <unistd.h>

#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

AIO_TEST(Loop, CallSoonIsFifo) {
    std::vector<int> order;
    for (int i = 0; i < 5; ++i) aio::get_running_loop().call_soon([&order, i] { order.push_back(i); });
    co_await aio::sleep(0ms);
    co_await aio::sleep(0ms);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

AIO_TEST(Loop, EqualDeadlineTimersRunInSchedulingOrderAndCancelledNeverRun) {
    auto& l = aio::get_running_loop();
    std::vector<int> order;
    auto when = l.time() + 10ms;
    l.call_at(when, [&] { order.push_back(1); });
    auto h = l.call_at(when, [&] { order.push_back(2); });
    l.call_at(when, [&] { order.push_back(3); });
    l.call_later(5ms, [&] { order.push_back(0); });
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    co_await aio::sleep(20ms);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 3}));
}

AIO_TEST(Loop, ExceptionInCallbackIsReportedAndLoopKeepsRunning) {
    bool after = false;
    aio::get_running_loop().call_soon([] { throw std::runtime_error("callback failed"); });
    aio::get_running_loop().call_soon([&] { after = true; });
    co_await aio::sleep(1ms);
    EXPECT_TRUE(after);
    auto reports = loop.take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Exception in callback");
    EXPECT_NE(aio::describe(reports[0].exception).find("callback failed"), std::string::npos);
}

AIO_TEST(Loop, CallSoonThreadsafeWakesTheLoop) {
    auto fut = aio::get_running_loop().create_future<int>();
    auto& l = aio::get_running_loop();
    l.begin_external();  // tell the virtual clock a thread will wake us
    // Handles are loop-affine (their count is not atomic): the thread gets a pointer only,
    // and the future is touched on the loop's thread.
    aio::Future<int>* target = &fut;
    std::thread worker([&l, target] {
        l.call_soon_threadsafe([&l, target] {
            l.end_external();
            target->set_result(42);
        });
    });
    int v = co_await fut;
    worker.join();
    EXPECT_EQ(v, 42);
}

AIO_TEST(Loop, AddReaderFiresWhenReadableUntilRemoved) {
    int fds[2];
    CO_ASSERT_EQ(::pipe(fds), 0);
    auto& l = aio::get_running_loop();
    auto got = l.create_future<std::string>();
    l.add_reader(fds[0], [&, got]() mutable {
        char buf[16];
        auto n = ::read(fds[0], buf, sizeof buf);
        l.remove_reader(fds[0]);
        got.set_result(std::string(buf, static_cast<std::size_t>(n)));
    });
    EXPECT_EQ(::write(fds[1], "ping", 4), 4);
    EXPECT_EQ(co_await got, "ping");
    EXPECT_FALSE(l.remove_reader(fds[0]));
    ::close(fds[0]);
    ::close(fds[1]);
}

AIO_TEST(Loop, AddWriterFiresWhenWritableUntilRemoved) {
    int fds[2];
    CO_ASSERT_EQ(::pipe(fds), 0);
    auto& l = aio::get_running_loop();
    auto writable = l.create_future<int>();
    int calls = 0;
    l.add_writer(fds[1], [&, writable]() mutable {
        ++calls;
        l.remove_writer(fds[1]);
        writable.set_result(static_cast<int>(::write(fds[1], "x", 1)));
    });
    EXPECT_EQ(co_await writable, 1);
    co_await aio::sleep(0ms);
    EXPECT_EQ(calls, 1);  // removed: not called again although still writable
    EXPECT_FALSE(l.remove_writer(fds[1]));
    ::close(fds[0]);
    ::close(fds[1]);
}

AIO_TEST(Loop, SignalHandlerRunsOnTheLoop) {
    auto& l = aio::get_running_loop();
    auto got = l.create_future<>();
    l.add_signal_handler(SIGUSR1, [got]() mutable {
        if (!got.done()) got.set_result();
    });
    ::raise(SIGUSR1);
    co_await got;
    EXPECT_TRUE(l.remove_signal_handler(SIGUSR1));
    EXPECT_FALSE(l.remove_signal_handler(SIGUSR1));
    EXPECT_THROW(l.add_signal_handler(SIGKILL, [] {}), aio::RuntimeError);
}

// A loop that is never idle skips epoll while only its wake-up fd and signal pipe are
// registered; signals and threadsafe calls must still get through, within a few rounds.
AIO_TEST(Loop, BusyLoopStillSeesSignalsAndThreadsafeCalls) {
    auto& l = aio::get_running_loop();
    bool signalled = false, called = false;
    l.add_signal_handler(SIGUSR2, [&] { signalled = true; });
    auto spinner = [](bool& stop) -> aio::Coro<long> {
        long rounds = 0;
        while (!stop) {
            co_await aio::sleep(0ms);
            ++rounds;
        }
        co_return rounds;
    };
    // Two spinners keep the ready queue from ever emptying.
    auto a = aio::create_task(spinner(signalled));
    auto b = aio::create_task(spinner(signalled));
    co_await aio::sleep(0ms);
    ::raise(SIGUSR2);
    long rounds = co_await a;
    co_await b;
    EXPECT_TRUE(signalled);
    EXPECT_LT(rounds, 1000);
    l.begin_external();
    std::thread worker([&l, &called] {
        l.call_soon_threadsafe([&l, &called] {
            l.end_external();
            called = true;
        });
    });
    worker.join();  // the call is queued before the spinners start
    auto c = aio::create_task(spinner(called));
    auto d = aio::create_task(spinner(called));
    EXPECT_LT(co_await c, 1000);
    co_await d;
    EXPECT_TRUE(l.remove_signal_handler(SIGUSR2));
}

AIO_TEST(Loop, GetRunningLoopAndNestedRunAreErrors) {
    auto& l = aio::get_running_loop();
    EXPECT_TRUE(l.is_running());
    EXPECT_THROW(l.run_forever(), aio::RuntimeError);
    EXPECT_THROW(l.close(), aio::RuntimeError);
    co_return;
}

AIO_TEST(Loop, DebugModeCatchesCallsFromAnotherThread) {
    auto& l = aio::get_running_loop();
    l.set_debug(true);
    bool threw = false;
    std::thread t([&] {
        try {
            l.call_soon([] {});
        } catch (const aio::RuntimeError&) {
            threw = true;
        }
    });
    t.join();
    l.set_debug(false);
    EXPECT_TRUE(threw);
    co_return;
}

TEST(LoopOutside, GetRunningLoopOutsideALoopThrows) { EXPECT_THROW(aio::get_running_loop(), aio::RuntimeError); }

TEST(LoopOutside, SleepZeroIsRoundRobin) {
    aio::test::TestLoop tl;
    std::vector<std::string> order;
    auto worker = [&](std::string name) -> aio::Coro<> {
        for (int i = 0; i < 3; ++i) {
            order.push_back(name + std::to_string(i));
            co_await aio::sleep(0ms);
        }
    };
    auto a = tl.spawn(worker("a"));
    auto b = tl.spawn(worker("b"));
    tl.run_until_idle();
    EXPECT_EQ(order, (std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "b2"}));
}

TEST(LoopOutside, AdvanceMovesVirtualTimeExactly) {
    aio::test::TestLoop tl;
    bool fired = false;
    auto t = tl.spawn([](bool& f) -> aio::Coro<> {
        co_await aio::sleep(50ms);
        f = true;
    }(fired));
    tl.advance(49ms);
    EXPECT_FALSE(fired);
    tl.advance(1ms);
    EXPECT_TRUE(fired);
    EXPECT_EQ(tl.elapsed(), 50ms);
}
