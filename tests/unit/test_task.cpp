#include "aio/task.hpp"

#include <string>
#include <thread>
#include <vector>

#include "aio/sleep.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

aio::Coro<int> add_later(int a, int b, std::chrono::milliseconds d) {
    co_await aio::sleep(d);
    co_return a + b;
}

aio::Coro<int> fail_after(std::chrono::milliseconds d) {
    co_await aio::sleep(d);
    throw std::runtime_error("boom");
}

}  // namespace

AIO_TEST(Task, AwaitReturnsResult) {
    auto t = aio::create_task(add_later(1, 2, 10ms));
    EXPECT_FALSE(t.done());
    int v = co_await t;
    EXPECT_EQ(v, 3);
    EXPECT_TRUE(t.done());
    EXPECT_EQ(t.result(), 3);
}

AIO_TEST(Task, CoroutineRunsOnlyWhenAwaitedButTaskStartsAtOnce) {
    std::vector<std::string> order;
    auto body = [&](std::string name) -> aio::Coro<> {
        order.push_back(name);
        co_return;
    };
    auto c = body("coro");
    auto t = aio::create_task(body("task"));
    co_await aio::sleep(0ms);
    EXPECT_EQ(order, std::vector<std::string>{"task"});
    co_await std::move(c);
    EXPECT_EQ(order, (std::vector<std::string>{"task", "coro"}));
    co_await t;
}

AIO_TEST(Task, ExceptionPropagatesToAwaiter) {
    auto t = aio::create_task(fail_after(5ms));
    EXPECT_THROW(co_await t, std::runtime_error);
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
    EXPECT_NE(t.exception(), nullptr);
}

AIO_TEST(Task, ResultOfPendingTaskIsInvalidState) {
    auto t = aio::create_task(add_later(1, 1, 5ms));
    EXPECT_THROW((void)t.result(), aio::InvalidStateError);
    co_await t;
}

AIO_TEST(Task, CancelDeliversMessageAtTheSleep) {
    bool cleaned = false;
    auto t = aio::create_task([&]() -> aio::Coro<> {
        try {
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError& e) {
            EXPECT_EQ(e.message(), "stop now");
            cleaned = true;
            throw;
        }
    });
    co_await aio::sleep(1ms);
    EXPECT_TRUE(t.cancel("stop now"));
    EXPECT_EQ(t.cancelling(), 1);
    try {
        co_await t;
        ADD_FAILURE() << "expected CancelledError";
    } catch (const aio::CancelledError& e) {
        EXPECT_EQ(e.message(), "stop now");
    }
    EXPECT_TRUE(cleaned);
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(t.cancel());  // done: false
}

AIO_TEST(Task, CancelledBeforeFirstStepNeverRunsItsBody) {
    bool ran = false;
    auto t = aio::create_task([&]() -> aio::Coro<> {
        ran = true;
        co_return;
    });
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(t.cancelled());
}

AIO_TEST(Task, UncancelLetsTheTaskContinue) {
    auto t = aio::create_task([]() -> aio::Coro<int> {
        try {
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
            aio::current_task().uncancel();
        }
        co_await aio::sleep(1ms);
        co_return 7;
    });
    co_await aio::sleep(0ms);
    t.cancel();
    EXPECT_EQ(co_await t, 7);
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 0);
}

AIO_TEST(Task, CancelWhileRunningIsRaisedAtNextSuspension) {
    std::vector<int> steps;
    auto t = aio::create_task([&]() -> aio::Coro<> {
        aio::current_task().cancel();  // running: delivered at the next suspending await
        steps.push_back(1);
        co_await aio::sleep(1ms);
        steps.push_back(2);
    });
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_EQ(steps, std::vector<int>{1});
}

AIO_TEST(Task, CancelIsForwardedToAwaitedTask) {
    auto inner = aio::create_task(add_later(1, 1, 1h));
    auto outer = aio::create_task([inner]() -> aio::Coro<int> { co_return co_await inner; });
    co_await aio::sleep(1ms);
    outer.cancel();
    EXPECT_THROW(co_await outer, aio::CancelledError);
    EXPECT_TRUE(inner.cancelled());
}

AIO_TEST(Task, InnerTaskSwallowingCancelLeavesOuterRunning) {
    auto inner = aio::create_task([]() -> aio::Coro<int> {
        try {
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
            aio::current_task().uncancel();
        }
        co_return 5;
    });
    auto outer = aio::create_task([inner]() -> aio::Coro<int> { co_return co_await inner + 1; });
    co_await aio::sleep(1ms);
    outer.cancel();
    EXPECT_EQ(co_await outer, 6);
    EXPECT_FALSE(outer.cancelled());
    EXPECT_EQ(outer.cancelling(), 1);  // asyncio leaves the request counted
}

AIO_TEST(Task, NamesDefaultAndCustom) {
    auto t = aio::create_task(add_later(0, 0, 1ms), "fetch-X");
    EXPECT_EQ(t.get_name(), "fetch-X");
    t.set_name("renamed");
    EXPECT_EQ(t.get_name(), "renamed");
    auto u = aio::create_task(add_later(0, 0, 1ms));
    EXPECT_EQ(u.get_name().rfind("Task-", 0), 0u);
    co_await t;
    co_await u;
}

AIO_TEST(Task, DefaultNamesCountUpInCreationOrderAndKeepTheirNumber) {
    auto a = aio::create_task(add_later(0, 0, 1ms));
    auto b = aio::create_task(add_later(0, 0, 1ms));
    const std::string name_a = a.get_name(), name_b = b.get_name();
    EXPECT_EQ(std::stoi(name_b.substr(5)), std::stoi(name_a.substr(5)) + 1);
    // A cancel message gives the task its rarely used fields; the number stays.
    b.cancel("stop");
    EXPECT_EQ(b.get_name(), name_b);
    co_await a;
    EXPECT_THROW(co_await b, aio::CancelledError);
    EXPECT_EQ(b.get_name(), name_b);
}

AIO_TEST(Task, DoneCallbacksRunSoonInOrder) {
    std::vector<int> calls;
    auto t = aio::create_task(add_later(1, 1, 1ms));
    t.add_done_callback([&](const aio::Task<int>& d) { calls.push_back(d.result()); });
    auto id = t.add_done_callback([&](const aio::Task<int>&) { calls.push_back(-1); });
    t.add_done_callback([&](const aio::Task<int>&) { calls.push_back(3); });
    EXPECT_EQ(t.remove_done_callback(id), 1u);
    co_await t;
    co_await aio::sleep(0ms);
    EXPECT_EQ(calls, (std::vector<int>{2, 3}));
}

AIO_TEST(Task, FireAndForgetFailureIsReported) {
    aio::create_task(fail_after(1ms), "orphan");
    co_await aio::sleep(5ms);
    auto reports = loop.take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Task exception was never retrieved");
    EXPECT_EQ(reports[0].task, "orphan");
    EXPECT_NE(aio::describe(reports[0].exception).find("boom"), std::string::npos);
}

AIO_TEST(Task, DroppingLastHandleOfFailedTaskReports) {
    {
        auto t = aio::create_task(fail_after(1ms), "held");
        co_await aio::sleep(5ms);
        EXPECT_TRUE(loop.take_reports().empty());  // a handle exists: someone may still look
    }
    auto reports = loop.take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].task, "held");
}

AIO_TEST(Task, CurrentTaskAndAllTasks) {
    auto me = aio::current_task();
    CO_ASSERT_TRUE(me);
    auto t = aio::create_task(add_later(1, 1, 1ms));
    auto all = aio::all_tasks();
    EXPECT_EQ(all.size(), 2u);
    co_await t;
    EXPECT_EQ(aio::all_tasks().size(), 1u);
}

AIO_TEST(Task, StackNamesTheCoroutines) {
    auto t = aio::create_task(add_later(1, 1, 1h), "deep");
    co_await aio::sleep(0ms);
    auto stack = t.get_stack();
    CO_ASSERT_FALSE(stack.empty());
    EXPECT_NE(stack[0].find("add_later"), std::string::npos) << stack[0];
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
}

AIO_TEST(Task, PrintStackWritesTheChain) {
    auto t = aio::create_task(add_later(1, 1, 1h), "printed");
    co_await aio::sleep(0ms);
    std::FILE* out = std::tmpfile();
    t.print_stack(out);
    std::rewind(out);
    char buf[512] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, out);
    std::fclose(out);
    const std::string text(buf, n);
    EXPECT_NE(text.find("Stack for task printed (pending)"), std::string::npos) << text;
    EXPECT_NE(text.find("add_later"), std::string::npos) << text;
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
}

AIO_TEST(Task, AwaitingTaskOfAnotherLoopIsAnError) {
    aio::test::TestLoop other;
    auto foreign = other.spawn(add_later(1, 1, 1ms));
    EXPECT_THROW(co_await foreign, aio::RuntimeError);
    other.run_until_idle();
    other.advance(5ms);
}

AIO_TEST(Task, TenMillionSynchronousAwaitsDoNotGrowTheStack) {
    // One long step by design: not a slow-step report in debug mode.
    aio::get_running_loop().slow_callback_duration = std::chrono::hours(1);
    auto leaf = [](long i) -> aio::Coro<long> { co_return i & 1; };
    long sum = 0;
    for (long i = 0; i < 10'000'000; ++i) sum += co_await leaf(i);
    EXPECT_EQ(sum, 5'000'000);
}

TEST(TaskOutsideLoop, CreateTaskWithoutLoopThrows) {
    auto c = add_later(1, 1, 1ms);
    EXPECT_THROW(aio::create_task(std::move(c)), aio::RuntimeError);
}

AIO_TEST(Task, DebugModeCatchesAHandleCopiedOnAnotherThread) {
    auto& l = aio::get_running_loop();
    const bool was = l.get_debug();
    l.set_debug(true);
    auto t = aio::create_task(add_later(1, 1, 1ms));
    std::string error;
    std::thread other([&] {
        try {
            aio::Task<int> copy = t;  // a data race on the count without the check
        } catch (const aio::RuntimeError& e) {
            error = e.what();
        }
    });
    other.join();
    l.set_debug(was);
    EXPECT_NE(error.find("a Task handle used on a thread other than its event loop's"), std::string::npos) << error;
    co_await t;
}

namespace {
void drop_task_handle_on_another_thread() {
    aio::test::TestLoop tl;
    tl.loop().set_debug(true);
    auto t = tl.spawn(add_later(1, 1, 1ms));
    auto* moved = new aio::Task<int>(std::move(t));
    std::thread([moved] { delete moved; }).join();
}
}  // namespace

TEST(TaskDeathTest, DebugModeAbortsWhenAHandleIsDroppedOnAnotherThread) {
    EXPECT_DEATH(drop_task_handle_on_another_thread(), "fatal: .*a Task handle used on a thread other than");
}
