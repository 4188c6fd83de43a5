// Timer nodes and the loop's 4-ary timer heap (not user API).
#pragma once

#include <chrono>
#include <cstdint>

#include "aio/detail/frame_alloc.hpp"

namespace aio {
/// The loop's clock; `EventLoop::time()` reads it (or the test loop's virtual time).
using Clock = std::chrono::steady_clock;
}  // namespace aio

namespace aio::detail {

/// A timer registration. It lives inside whoever waits (a sleeping frame, a callback
/// handle, a timeout scope) and records its heap slot, so cancel and reschedule are
/// O(log n) and no heap entry can outlive its owner.
struct TimerNode {
    static constexpr std::uint32_t kNotQueued = 0xffffffffu;
    Clock::time_point when{};
    void (*fire)(TimerNode*) = nullptr;
    std::uint32_t index = kNotQueued;
    // Scheduling order, so equal deadlines fire in it. 32 bits compared modulo 2^32: two
    // timers due at the same nanosecond are never 2^31 schedulings apart.
    std::uint32_t seq = 0;

    [[nodiscard]] bool queued() const noexcept { return index != kNotQueued; }
};

/// Min-heap of 16-byte {deadline, node} entries, four children per slot (shallower and
/// more cache-friendly than a binary heap).
class TimerHeap {
public:
    /// `first_seq`: the first scheduling number (tests start near the 32-bit wrap).
    explicit TimerHeap(std::uint32_t first_seq = 0) noexcept : next_seq_(first_seq) {}
    void push(TimerNode* node);
    void erase(TimerNode* node) noexcept;
    void reschedule(TimerNode* node, Clock::time_point when);
    [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
    [[nodiscard]] TimerNode* top() const noexcept { return heap_.front().node; }
    /// Removes and returns the earliest node if it is due at `now`, else nullptr.
    TimerNode* pop_due(Clock::time_point now) noexcept;
    /// Every queued node, in no particular order (for leak reports).
    template <class F>
    void for_each(F&& f) const {
        for (const Entry& e : heap_) f(e.node);
    }

private:
    struct Entry {
        std::int64_t when;  // ns since the clock's epoch, compared without touching the node
        TimerNode* node;
    };
    static bool less(const Entry& a, const Entry& b) noexcept {
        return a.when < b.when ||
               (a.when == b.when && static_cast<std::int32_t>(a.node->seq - b.node->seq) < 0);
    }
    void place(std::uint32_t i, Entry e) noexcept {
        heap_[i] = e;
        e.node->index = i;
    }
    void sift_up(std::uint32_t i, Entry e) noexcept;
    void sift_down(std::uint32_t i, Entry e) noexcept;

    BigArray<Entry> heap_;
    std::uint32_t next_seq_;
};

}  // namespace aio::detail
