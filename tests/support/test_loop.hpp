// A virtual-clock loop for unit tests (asyncio's TestLoop, Tokio's paused clock) and the
// AIO_TEST macro that makes a test body a coroutine (folly's CO_TEST).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "aio/aio.hpp"

namespace aio::test {

/// Number of open file descriptors of this process.
int open_fd_count();

/// Owns an EventLoop whose clock is virtual: time stands still while work is ready and
/// jumps to the next timer when the loop is idle, so tests never really sleep. Reports
/// sent to the exception handler are recorded; teardown fails the test on leftovers.
class TestLoop {
public:
    /// `virtual_time = false` gives a real clock, for tests on real sockets whose events
    /// arrive in real time; the teardown checks are the same.
    explicit TestLoop(bool virtual_time = true);
    ~TestLoop();
    TestLoop(const TestLoop&) = delete;
    TestLoop& operator=(const TestLoop&) = delete;

    EventLoop& loop() noexcept { return *loop_; }
    [[nodiscard]] Clock::time_point now() const noexcept { return loop_->time(); }
    /// Virtual time elapsed since the loop was created.
    [[nodiscard]] Clock::duration elapsed() const noexcept { return loop_->time() - start_; }

    /// Runs `coro` as a task until it completes and returns its result.
    template <class T>
    T run(Coro<T> coro) {
        return loop_->run_until_complete(std::move(coro));
    }
    /// One loop iteration without blocking and without moving the clock.
    void run_briefly();
    /// Iterations until nothing is ready (the clock does not move).
    void run_until_idle();
    /// One iteration; if nothing is ready, first jumps the clock to the next timer.
    void step();
    /// Moves the clock forward by `d`, running everything due on the way.
    void advance(Clock::duration d);
    /// Creates a task on this loop from outside it.
    template <class T>
    Task<T> spawn(Coro<T> coro, std::string_view name = {}) {
        return detail::create_task_on(*loop_, std::move(coro), name);
    }

    /// Exception-handler calls so far; taking them marks them as expected.
    std::vector<ExceptionContext> take_reports();
    /// Runs the test body and then checks: no task left pending, no timer queued, no
    /// unexpected report, no file descriptor leaked.
    void run_test(Coro<void> body);

private:
    // reports_ is declared first so it outlives the loop, which may report while closing.
    std::vector<ExceptionContext> reports_;
    int fds_before_;
    std::unique_ptr<EventLoop> loop_;
    Clock::time_point start_;
};

}  // namespace aio::test

/// Defines a GoogleTest test whose body is a coroutine run on a TestLoop named `loop`.
#define AIO_TEST(suite, name)                                                                  \
    static ::aio::Coro<void> suite##_##name##_body(::aio::test::TestLoop& loop);               \
    TEST(suite, name) {                                                                        \
        ::aio::test::TestLoop loop;                                                            \
        loop.run_test(suite##_##name##_body(loop));                                            \
    }                                                                                          \
    static ::aio::Coro<void> suite##_##name##_body([[maybe_unused]] ::aio::test::TestLoop& loop)

/// AIO_TEST on a real clock: for tests on real sockets (use generous timeouts).
#define AIO_REAL_TEST(suite, name)                                                             \
    static ::aio::Coro<void> suite##_##name##_body(::aio::test::TestLoop& loop);               \
    TEST(suite, name) {                                                                        \
        ::aio::test::TestLoop loop(false);                                                     \
        loop.run_test(suite##_##name##_body(loop));                                            \
    }                                                                                          \
    static ::aio::Coro<void> suite##_##name##_body([[maybe_unused]] ::aio::test::TestLoop& loop)

// ASSERT_* return from the function; inside an AIO_TEST body use these, which co_return.
#define AIO_CO_ASSERT_(expect_stmt)                         \
    do {                                                    \
        const bool aio_failed_before_ = ::testing::Test::HasFailure(); \
        expect_stmt;                                        \
        if (!aio_failed_before_ && ::testing::Test::HasFailure()) co_return; \
    } while (0)
#define CO_ASSERT_TRUE(c) AIO_CO_ASSERT_(EXPECT_TRUE(c))
#define CO_ASSERT_FALSE(c) AIO_CO_ASSERT_(EXPECT_FALSE(c))
#define CO_ASSERT_EQ(a, b) AIO_CO_ASSERT_(EXPECT_EQ(a, b))
#define CO_ASSERT_NE(a, b) AIO_CO_ASSERT_(EXPECT_NE(a, b))
#define CO_ASSERT_GE(a, b) AIO_CO_ASSERT_(EXPECT_GE(a, b))
