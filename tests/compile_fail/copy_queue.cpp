// Copying a Queue must not compile: blocked getters and putters are linked into it.
#include "aio/queues.hpp"

void caller() {
    aio::Queue<int> q;
#ifdef AIOCPP_COMPILE_FAIL
    aio::Queue<int> copy = q;
    (void)copy;
#else
    (void)q.qsize();
#endif
}
