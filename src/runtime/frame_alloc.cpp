#include "aio/detail/frame_alloc.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <new>

namespace aio::detail {

namespace {

// A class's slabs double from 64 KiB up to 2 MiB as it keeps growing. 2 MiB slabs are
// aligned and advised for transparent huge pages, so a million live frames cost a few
// hundred page faults rather than tens of thousands (each an expensive exit on a VM),
// while a small program still spends only 64 KiB per class it uses.
constexpr std::size_t kFirstSlab = 64 * 1024;
constexpr std::size_t kHugeSlab = 2 * 1024 * 1024;
thread_local std::size_t tl_slab_bytes[kFrameClasses];

char* allocate_slab(std::size_t bytes) {
    if (bytes < kHugeSlab) return static_cast<char*>(::operator new(bytes));
    void* p = std::aligned_alloc(kHugeSlab, bytes);
    if (!p) throw std::bad_alloc();
    ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint: without THP it is plain memory
    return static_cast<char*>(p);
}

}  // namespace

void* frame_refill(std::size_t cls) {
    // Slabs are never freed: blocks may live on any thread's list, so a slab can never be
    // known to be empty.
    const std::size_t block = cls * kFrameGranule;
    std::size_t& slab_bytes = tl_slab_bytes[cls];
    slab_bytes = slab_bytes == 0 ? kFirstSlab : std::min(slab_bytes * 2, kHugeSlab);
    const std::size_t count = std::max<std::size_t>(slab_bytes / block, 8);
    char* slab = allocate_slab(slab_bytes >= kHugeSlab ? kHugeSlab : block * count);
    FreeBlock*& head = tl_frame_cache.heads[cls];
    for (std::size_t i = count - 1; i >= 1; --i) {
        auto* b = reinterpret_cast<FreeBlock*>(slab + i * block);
        b->next = head;
        head = b;
    }
    return slab;
}

}  // namespace aio::detail
