// asyncio tutorial: "Task.add_done_callback" — log how each fire-and-forget task
// ended (result, error or cancellation) without awaiting it.
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

int logged_errors = 0;
int logged_total = 0;

void log_outcome(aio::Task<int>& t) {
    ++logged_total;
    if (t.cancelled()) {
        fmt::print("[log] {} was cancelled\n", t.get_name());
    } else if (std::exception_ptr e = t.exception()) {
        ++logged_errors;
        fmt::print("[log] {} failed: {}\n", t.get_name(), aio::describe(e));
    } else {
        fmt::print("[log] {} returned {}\n", t.get_name(), t.result());
    }
}

aio::Coro<int> job(int n) {
    co_await aio::sleep(10ms * n);
    if (n == 2) throw std::runtime_error("disk full");
    co_return n * n;
}

aio::Coro<int> amain() {
    for (int n = 1; n <= 3; ++n) {
        aio::Task<int> t = aio::create_task(job(n), "job-" + std::to_string(n));
        t.add_done_callback(log_outcome);  // fire and forget: only the callback looks
    }
    aio::Task<int> doomed = aio::create_task(job(9), "job-9");
    doomed.add_done_callback(log_outcome);
    co_await aio::sleep(50ms);
    doomed.cancel();
    co_await aio::sleep(10ms);  // let the callbacks run

    fmt::print("logged {} outcomes, {} error(s)\n", logged_total, logged_errors);
    co_return (logged_total == 4 && logged_errors == 1) ? 0 : 1;
}

int main() { return aio::run(amain()); }
