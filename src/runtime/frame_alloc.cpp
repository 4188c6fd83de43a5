#include "aio/detail/frame_alloc.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <new>

namespace aio::detail {

namespace {

// A class's first slab is 64 KiB, so a small program spends little per class it uses;
// later slabs are 2 MiB, aligned and advised for transparent huge pages, so a million
// live frames cost a few dozen page faults rather than thousands (each an expensive exit
// on a VM: about 11 µs per 4 KiB page on the benchmark machine). Blocks are cut from the
// current slab only when the free list is empty, so memory is touched as it is used.
constexpr std::size_t kFirstSlab = 64 * 1024;
constexpr std::size_t kHugeSlab = 2 * 1024 * 1024;
[[maybe_unused]] constexpr std::size_t kBigArray = 1024 * 1024;  // sanitizer builds: unused

struct Carving {
    char* next = nullptr;  // the current slab's first unused byte
    char* end = nullptr;
    bool had_slab = false;
};
thread_local Carving tl_carving[kFrameClasses];

// Whole 2 MiB blocks: a 4 KiB-page tail would cost a fault per page, the reason for
// huge pages; the price is up to 2 MiB resident beyond what is used.
void* huge_pages(std::size_t bytes) {
    bytes = (bytes + kHugeSlab - 1) / kHugeSlab * kHugeSlab;
    void* p = std::aligned_alloc(kHugeSlab, bytes);
    if (!p) throw std::bad_alloc();
    ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint: without THP it is plain memory
    return p;
}

char* allocate_slab(std::size_t bytes) {
    if (bytes < kHugeSlab) return static_cast<char*>(::operator new(bytes));
    return static_cast<char*>(huge_pages(bytes));
}

}  // namespace

void* big_alloc(std::size_t bytes) {
#if AIOCPP_PLAIN_ALLOC
    return ::operator new(bytes);
#else
    return bytes < kBigArray ? ::operator new(bytes) : huge_pages(bytes);
#endif
}

void big_free(void* p, std::size_t bytes) noexcept {
#if AIOCPP_PLAIN_ALLOC
    ::operator delete(p, bytes);
#else
    if (bytes < kBigArray) {
        ::operator delete(p, bytes);
    } else {
        std::free(p);
    }
#endif
}

void* frame_refill(std::size_t cls) {
    // Slabs are never freed: blocks may live on any thread's list, so a slab can never be
    // known to be empty.
    const std::size_t block = cls * kFrameGranule;
    Carving& c = tl_carving[cls];
    if (static_cast<std::size_t>(c.end - c.next) < block) {
        const std::size_t bytes = c.had_slab ? kHugeSlab : std::max(kFirstSlab, 8 * block);
        c.next = allocate_slab(bytes);
        c.end = c.next + bytes;
        c.had_slab = true;
    }
    void* b = c.next;
    c.next += block;
    return b;
}

}  // namespace aio::detail
