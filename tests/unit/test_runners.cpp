#include "aio/runners.hpp"

#include <csignal>
#include <cstdio>

#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "aio/async_generator.hpp"
#include "aio/executor.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {
aio::Coro<int> answer() {
    co_await aio::sleep(0ms);
    co_return 42;
}
}  // namespace

TEST(Run, ReturnsTheMainResult) { EXPECT_EQ(aio::run(answer()), 42); }

TEST(Run, PropagatesTheMainException) {
    auto failing = []() -> aio::Coro<> {
        co_await aio::sleep(0ms);
        throw std::runtime_error("main failed");
    };
    EXPECT_THROW(aio::run(failing()), std::runtime_error);
}

TEST(Run, InsideARunningLoopIsAnError) {
    auto nested = []() -> aio::Coro<std::string> {
        auto inner = answer();
        try {
            aio::run(std::move(inner));
        } catch (const aio::RuntimeError& e) {
            co_return e.what();
        }
        co_return "no error";
    };
    EXPECT_EQ(aio::run(nested()), "RuntimeError: aio::run() cannot be called from a running event loop");
}

TEST(Run, LeftoverTasksAreCancelledAndAwaitedAtExit) {
    bool cleaned = false;
    auto main = [&]() -> aio::Coro<> {
        aio::create_task([&]() -> aio::Coro<> {
            try {
                co_await aio::sleep(1h);
            } catch (const aio::CancelledError&) {
                cleaned = true;
                throw;
            }
        });
        co_await aio::sleep(0ms);
    };
    aio::run(main());
    EXPECT_TRUE(cleaned);
}

TEST(Run, DefaultExecutorIsShutDown) {
    auto main = []() -> aio::Coro<int> { co_return co_await aio::to_thread([] { return 5; }); };
    EXPECT_EQ(aio::run(main()), 5);
}

TEST(Runner, RunsSeveralCoroutinesOnOneLoop) {
    aio::Runner runner;
    EXPECT_EQ(runner.run(answer()), 42);
    EXPECT_EQ(runner.run(answer()), 42);
    runner.close();
    EXPECT_THROW(runner.run(answer()), aio::RuntimeError);
}

namespace {
void interrupted_program() {
    auto main = []() -> aio::Coro<> {
        try {
            ::raise(SIGINT);  // as if Ctrl-C was pressed
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
            std::fputs("cleanup ran\n", stderr);
            throw;
        }
    };
    aio::run(main());
    std::fputs("run() returned normally\n", stderr);
    std::exit(0);
}
}  // namespace

void interrupted_twice_program() {
    auto main = []() -> aio::Coro<> {
        std::exception_ptr cancelled;
        try {
            ::raise(SIGINT);  // first Ctrl-C: cancels main
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
            cancelled = std::current_exception();
        }
        std::fputs("slow cleanup started\n", stderr);
        ::raise(SIGINT);  // second Ctrl-C during the cleanup: abort at once
        co_await aio::sleep(2s);
        std::_Exit(3);  // reached only if the second Ctrl-C did not abort
    };
    aio::run(main());
    std::exit(0);
}

TEST(Run, SecondCtrlCAbortsAtOnce) {
    EXPECT_EXIT(interrupted_twice_program(), ::testing::KilledBySignal(SIGINT), "slow cleanup started");
}

TEST(Run, CtrlCCancelsMainRunsCleanupAndDiesOfSigint) {
    EXPECT_EXIT(interrupted_program(), ::testing::KilledBySignal(SIGINT), "cleanup ran");
}

namespace {
aio::AsyncGenerator<int> numbers(std::vector<std::string>& log) {
    try {
        for (int i = 0;; ++i) co_yield i;
    } catch (const aio::GeneratorExit&) {
        log.push_back("GeneratorExit");
    }
    co_await aio::sleep(0ms);  // async cleanup
    log.push_back("closed");
}
}  // namespace

TEST(Run, SuspendedAsyncGeneratorsAreClosedAtExit) {
    std::vector<std::string> log;
    auto gen = numbers(log);  // outlives the main coroutine
    auto main = [](aio::AsyncGenerator<int>& g) -> aio::Coro<int> {
        auto first = co_await g.next();
        co_return first.value_or(-1);
    };
    EXPECT_EQ(aio::run(main(gen)), 0);
    EXPECT_EQ(log, (std::vector<std::string>{"GeneratorExit", "closed"}));
}
