// `co_await c` on an lvalue Coro must not compile: write `co_await std::move(c)`.
#include <utility>

#include "aio/coro.hpp"

aio::Coro<int> fetch() { co_return 1; }

aio::Coro<int> caller() {
    auto c = fetch();
#ifdef AIOCPP_COMPILE_FAIL
    co_return co_await c;
#else
    co_return co_await std::move(c);
#endif
}
