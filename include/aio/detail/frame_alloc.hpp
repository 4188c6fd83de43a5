// Per-thread size-class free lists for coroutine frames and task states (not user API).
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>

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
/// up, whole 2 MiB blocks mapped and advised for transparent huge pages, so filling
/// 100,000 entries costs a handful of page faults instead of a thousand; below that,
/// operator new.
void* big_alloc(std::size_t bytes);
void big_free(void* p, std::size_t bytes) noexcept;
/// Grows a big_alloc block, keeping its first `used` bytes. Huge blocks move by
/// remapping their pages (no copy, and never both copies resident at once).
void* big_grow(void* p, std::size_t old_bytes, std::size_t used, std::size_t new_bytes);

/// A growable array of trivially copyable T in big_alloc memory: std::vector's shape
/// for the parts the runtime uses. Growth doubles the capacity, as vector's does, but a
/// huge array is remapped rather than copied, so growing never costs twice the memory.
template <class T>
class BigArray {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

public:
    BigArray() noexcept = default;
    BigArray(const BigArray&) = delete;
    BigArray& operator=(const BigArray&) = delete;
    ~BigArray() {
        if (data_) big_free(data_, capacity_ * sizeof(T));
    }

    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] T* data() noexcept { return data_; }
    [[nodiscard]] const T* data() const noexcept { return data_; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }
    [[nodiscard]] const T& front() const noexcept { return data_[0]; }
    [[nodiscard]] const T& back() const noexcept { return data_[size_ - 1]; }
    T* begin() noexcept { return data_; }
    T* end() noexcept { return data_ + size_; }
    const T* begin() const noexcept { return data_; }
    const T* end() const noexcept { return data_ + size_; }

    void push_back(const T& v) {
        if (size_ == capacity_) reserve(capacity_ ? 2 * capacity_ : 16);
        data_[size_++] = v;
    }
    void pop_back() noexcept { --size_; }
    /// Grows to `n` value-initialized elements (or shrinks, keeping the capacity).
    void resize(std::size_t n) {
        if (n > capacity_) reserve(n);
        for (std::size_t i = size_; i < n; ++i) new (data_ + i) T();
        size_ = n;
    }
    void reserve(std::size_t n) {
        if (n <= capacity_) return;
        data_ = static_cast<T*>(data_ ? big_grow(data_, capacity_ * sizeof(T), size_ * sizeof(T), n * sizeof(T))
                                      : big_alloc(n * sizeof(T)));
        capacity_ = n;
    }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace aio::detail
