#include "aio/detail/frame_alloc.hpp"

#include <cstdlib>

namespace aio::detail {

void* frame_refill(std::size_t cls) {
    // Slabs hold ~64 KiB worth of blocks of one class and are never freed: blocks may
    // live on any thread's list, so a slab can never be known to be empty.
    const std::size_t block = cls * kFrameGranule;
    std::size_t count = (64 * 1024) / block;
    if (count < 8) count = 8;
    auto* slab = static_cast<char*>(::operator new(block * count));
    FreeBlock*& head = tl_frame_cache.heads[cls];
    for (std::size_t i = 1; i < count; ++i) {
        auto* b = reinterpret_cast<FreeBlock*>(slab + i * block);
        b->next = head;
        head = b;
    }
    return slab;
}

}  // namespace aio::detail
