// asyncio tutorial: "Developing with asyncio — debug mode" — a coroutine that calls a
// blocking function (time.sleep) stalls the whole loop; debug mode reports the slow
// step and names the task and the coroutine function responsible.
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

std::vector<aio::ExceptionContext> reports;

aio::Coro<> crunch_numbers() {
    for (int i = 0; i < 2; ++i) {
        std::this_thread::sleep_for(150ms);  // BUG: blocks the event loop (use to_thread)
        co_await aio::sleep(0ms);
    }
}

aio::Coro<int> amain() {
    aio::EventLoop& loop = aio::get_running_loop();
    fmt::print("debug mode: {}, slow step threshold: {} ms\n", loop.get_debug(),
               std::chrono::duration_cast<std::chrono::milliseconds>(loop.slow_callback_duration).count());
    loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext& ctx) {
        fmt::print("exception handler called:\n  message:   {}\n  task:      {}\n  coroutine: {}\n",
                   ctx.message, ctx.task, ctx.where);
        reports.push_back(ctx);
    });

    co_await aio::create_task(crunch_numbers(), "cruncher");

    bool named = !reports.empty();
    for (const auto& r : reports) {
        named = named && r.task == "cruncher" && r.where.find("crunch_numbers") != std::string::npos;
    }
    fmt::print("{} slow steps reported, each naming task 'cruncher' and crunch_numbers(): {}\n", reports.size(),
               named ? "yes" : "NO");
    co_return named ? 0 : 1;
}

int main() { return aio::run(amain(), aio::RunOptions{.debug = true}); }
