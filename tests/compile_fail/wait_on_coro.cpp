// aio::wait() takes tasks only (asyncio 3.11+ refuses coroutines).
#include <vector>

#include "aio/tasks.hpp"

aio::Coro<int> fetch() { co_return 1; }

aio::Coro<> caller() {
#ifdef AIOCPP_COMPILE_FAIL
    std::vector<aio::Coro<int>> coros;
    coros.push_back(fetch());
    co_await aio::wait(std::move(coros));
#else
    std::vector<aio::Task<int>> tasks{aio::create_task(fetch())};
    co_await aio::wait(tasks);
#endif
}
