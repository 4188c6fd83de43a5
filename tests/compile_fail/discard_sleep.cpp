// aio::sleep(d) without co_await must not compile under -Werror.
#include <chrono>

#include "aio/sleep.hpp"

aio::Coro<> caller() {
#ifdef AIOCPP_COMPILE_FAIL
    aio::sleep(std::chrono::milliseconds(1));
#else
    co_await aio::sleep(std::chrono::milliseconds(1));
#endif
}
