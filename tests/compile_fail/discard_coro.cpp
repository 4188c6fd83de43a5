// Calling a coroutine function and dropping the Coro must not compile under -Werror.
#include "aio/coro.hpp"

aio::Coro<int> fetch() { co_return 1; }

void caller() {
#ifdef AIOCPP_COMPILE_FAIL
    fetch();
#else
    auto c = fetch();
    (void)c;
#endif
}
