// Copying a Lock (or any primitive) must not compile: waiters live inside it.
#include "aio/locks.hpp"

void caller() {
    aio::Lock lock;
#ifdef AIOCPP_COMPILE_FAIL
    aio::Lock copy = lock;
    (void)copy;
#else
    (void)lock.locked();
#endif
}
