#include "aio/detail/frame_alloc.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <new>

namespace aio::detail {

namespace {

// One bump region per thread serves every size class. The first slab is 64 KiB, so a
// small program spends little; later slabs are 2 MiB, aligned and advised for
// transparent huge pages, so a million live frames cost a few dozen page faults rather
// than thousands (each an expensive exit on a VM: about 11 µs per 4 KiB page on the
// benchmark machine). Blocks are cut only when a class's free list is empty, so memory
// is touched as it is used, and sharing the region leaves one partly used huge page per
// thread instead of one per class.
constexpr std::size_t kFirstSlab = 64 * 1024;
constexpr std::size_t kHugeSlab = 2 * 1024 * 1024;
[[maybe_unused]] constexpr std::size_t kBigArray = 1024 * 1024;  // sanitizer builds: unused

struct Carving {
    char* next = nullptr;  // the current slab's first unused byte
    char* end = nullptr;
    bool had_slab = false;
};
thread_local Carving tl_carving;

std::size_t whole_huge_pages(std::size_t bytes) { return (bytes + kHugeSlab - 1) / kHugeSlab * kHugeSlab; }

// Whole 2 MiB blocks at 2 MiB-aligned addresses: a 4 KiB-page tail would cost a fault
// per page, the reason for huge pages; the price is up to 2 MiB resident beyond what is
// used. Mapped directly, so a block can later move by remapping (big_grow).
char* huge_pages(std::size_t bytes) {
    bytes = whole_huge_pages(bytes);
    const std::size_t span = bytes + kHugeSlab;  // room to align
    void* m = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    char* start = static_cast<char*>(m);
    char* aligned = start + (kHugeSlab - reinterpret_cast<std::uintptr_t>(start) % kHugeSlab) % kHugeSlab;
    if (aligned > start) ::munmap(start, static_cast<std::size_t>(aligned - start));
    if (char* tail = aligned + bytes; tail < start + span) ::munmap(tail, static_cast<std::size_t>(start + span - tail));
    ::madvise(aligned, bytes, MADV_HUGEPAGE);  // a hint: without THP it is plain memory
    return aligned;
}

char* allocate_slab(std::size_t bytes) {
    if (bytes < kHugeSlab) return static_cast<char*>(::operator new(bytes));
    return huge_pages(bytes);
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
        ::munmap(p, whole_huge_pages(bytes));
    }
#endif
}

void* big_grow(void* p, std::size_t old_bytes, std::size_t used, std::size_t new_bytes) {
#if !AIOCPP_PLAIN_ALLOC
    if (old_bytes >= kBigArray) {
        if (whole_huge_pages(new_bytes) == whole_huge_pages(old_bytes)) return p;
        // Move the old pages to the start of a new aligned block: the kernel moves page
        // table entries, so nothing is copied and the old memory is never duplicated.
        char* fresh = huge_pages(new_bytes);
        void* moved = ::mremap(p, whole_huge_pages(old_bytes), whole_huge_pages(old_bytes),
                               MREMAP_MAYMOVE | MREMAP_FIXED, fresh);
        if (moved == MAP_FAILED) {
            ::munmap(fresh, whole_huge_pages(new_bytes));
            throw std::bad_alloc();
        }
        return fresh;
    }
#endif
    void* fresh = big_alloc(new_bytes);
    std::memcpy(fresh, p, used);
    big_free(p, old_bytes);
    return fresh;
}

void* frame_refill(std::size_t cls) {
    // Slabs are never freed: blocks may live on any thread's list, so a slab can never be
    // known to be empty.
    const std::size_t block = cls * kFrameGranule;
    Carving& c = tl_carving;
    if (static_cast<std::size_t>(c.end - c.next) < block) {
        // The rest of the old slab (less than one block) is left unused.
        const std::size_t bytes = c.had_slab ? kHugeSlab : kFirstSlab;
        c.next = allocate_slab(bytes);
        c.end = c.next + bytes;
        c.had_slab = true;
    }
    void* b = c.next;
    c.next += block;
    return b;
}

}  // namespace aio::detail
