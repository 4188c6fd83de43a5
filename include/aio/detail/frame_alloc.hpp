// Per-thread size-class free lists for coroutine frames and task states (not user API).
#pragma once

#include <cstddef>
#include <new>

#include "aio/config.hpp"

namespace aio::detail {

// Blocks carry no header: the size comes back through sized delete. A block freed on
// another thread joins that thread's free list, which is safe because size classes are
// the same everywhere and slabs are never returned to the system.
inline constexpr std::size_t kFrameGranule = 16;
inline constexpr std::size_t kFrameClasses = 128;  // blocks up to 2 KiB; larger use new

struct FreeBlock {
    FreeBlock* next;
};

struct FrameCache {
    FreeBlock* heads[kFrameClasses] = {};
};

inline thread_local FrameCache tl_frame_cache;

void* frame_refill(std::size_t cls);  // carves a slab for one class; returns a block

inline void* frame_alloc(std::size_t n) {
#if AIOCPP_PLAIN_ALLOC
    return ::operator new(n);
#else
    std::size_t cls = (n + kFrameGranule - 1) / kFrameGranule;
    if (cls >= kFrameClasses) return ::operator new(n);
    FreeBlock*& head = tl_frame_cache.heads[cls];
    if (FreeBlock* b = head) {
        head = b->next;
        return b;
    }
    return frame_refill(cls);
#endif
}

inline void frame_free(void* p, std::size_t n) noexcept {
#if AIOCPP_PLAIN_ALLOC
    ::operator delete(p, n);
#else
    std::size_t cls = (n + kFrameGranule - 1) / kFrameGranule;
    if (cls >= kFrameClasses) {
        ::operator delete(p, n);
        return;
    }
    auto* b = static_cast<FreeBlock*>(p);
    b->next = tl_frame_cache.heads[cls];
    tl_frame_cache.heads[cls] = b;
#endif
}

/// Memory for the runtime's large arrays (a gather's links, the timer heap): from 1 MiB
/// up, whole 2 MiB blocks advised for transparent huge pages, so filling 100,000 entries
/// costs a handful of page faults instead of a thousand; below that, operator new.
void* big_alloc(std::size_t bytes);
void big_free(void* p, std::size_t bytes) noexcept;

template <class T>
struct BigAllocator {
    using value_type = T;
    BigAllocator() noexcept = default;
    template <class U>
    BigAllocator(const BigAllocator<U>&) noexcept {}  // NOLINT: rebinding converts implicitly
    T* allocate(std::size_t n) { return static_cast<T*>(big_alloc(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { big_free(p, n * sizeof(T)); }
    friend bool operator==(const BigAllocator&, const BigAllocator&) noexcept { return true; }
};

}  // namespace aio::detail
