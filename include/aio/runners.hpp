// run() and Runner: start a loop, run the main coroutine, shut down cleanly (runners.py).
#pragma once

#include <memory>
#include <vector>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/loop.hpp"
#include "aio/task.hpp"

namespace aio {

/// Options for `run()` and `Runner`.
struct RunOptions {
    /// Debug mode (also on with the environment variable AIOCPP_DEBUG=1).
    bool debug = false;
};
static_assert(std::is_trivially_destructible_v<RunOptions>, "options structs must be trivially destructible (g++ 12)");

/// Owns a loop and runs coroutines on it (asyncio.Runner).
///
/// `close()` (also run by the destructor) cancels the tasks still pending and waits for
/// them, acloses the async generators still suspended, shuts the default executor down
/// and closes the loop. While `run()` runs on the
/// main thread, Ctrl-C cancels the main task and lets its cleanup run; after close the
/// default SIGINT disposition is restored and the signal re-raised (exit status 130, as
/// CPython does); a second Ctrl-C aborts at once.
class Runner {
public:
    explicit Runner(RunOptions options = {});
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    /// Runs `coro` to completion as the main task and returns its result.
    /// Raises RuntimeError if called from a running loop.
    template <class T>
    T run(Coro<T> coro) {
        Task<T> task = start(std::move(coro));
        drive(task);
        // Interrupted by Ctrl-C and ended by it: die of SIGINT now (close() re-raises it),
        // as CPython's KeyboardInterrupt does, rather than throw CancelledError out of main().
        if (interrupted_ && task.cancelled()) close();
        return std::move(task).result();
    }

    /// Cancels leftover tasks and waits for them, shuts down the default executor,
    /// closes the loop; re-raises a Ctrl-C that interrupted run().
    void close();
    [[nodiscard]] EventLoop& get_loop() noexcept { return *loop_; }

private:
    template <class T>
    Task<T> start(Coro<T>&& coro) {
        check_not_nested();
        return detail::create_task_on(*loop_, std::move(coro));
    }
    void check_not_nested() const;
    void drive(AnyTask main);
    void cancel_leftovers();
    void shutdown_asyncgens();
    /// Runs the loop until every task in `tasks` is done.
    void wait_all(std::vector<AnyTask>& tasks);

    std::unique_ptr<EventLoop> loop_;
    bool interrupted_ = false;
    bool closed_ = false;
};

/// Runs `main` on a new loop and returns its result (asyncio.run()):
/// `int main() { return aio::run(amain()); }`. See Runner for shutdown and Ctrl-C.
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
    Runner runner(options);
    if constexpr (std::is_void_v<T>) {
        runner.run(std::move(main));
        runner.close();
    } else {
        T result = runner.run(std::move(main));
        runner.close();
        return result;
    }
}

}  // namespace aio
