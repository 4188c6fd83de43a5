#include "aio/detail/timers.hpp"

namespace aio::detail {

namespace {
std::int64_t ticks(Clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
}  // namespace

void TimerHeap::sift_up(std::uint32_t i, Entry e) noexcept {
    while (i > 0) {
        std::uint32_t parent = (i - 1) / 4;
        if (!less(e, heap_[parent])) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, e);
}

void TimerHeap::sift_down(std::uint32_t i, Entry e) noexcept {
    const auto n = static_cast<std::uint32_t>(heap_.size());
    for (;;) {
        std::uint32_t first = 4 * i + 1;
        if (first >= n) break;
        std::uint32_t best = first;
        std::uint32_t last = first + 4 < n ? first + 4 : n;
        for (std::uint32_t c = first + 1; c < last; ++c) {
            if (less(heap_[c], heap_[best])) best = c;
        }
        if (!less(heap_[best], e)) break;
        place(i, heap_[best]);
        i = best;
    }
    place(i, e);
}

void TimerHeap::push(TimerNode* node) {
    node->seq = next_seq_++;
    heap_.push_back(Entry{ticks(node->when), node});
    sift_up(static_cast<std::uint32_t>(heap_.size() - 1), heap_.back());
}

void TimerHeap::erase(TimerNode* node) noexcept {
    std::uint32_t i = node->index;
    node->index = TimerNode::kNotQueued;
    Entry last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    if (i > 0 && less(last, heap_[(i - 1) / 4])) {
        sift_up(i, last);
    } else {
        sift_down(i, last);
    }
}

void TimerHeap::reschedule(TimerNode* node, Clock::time_point when) {
    if (node->queued()) erase(node);
    node->when = when;
    push(node);
}

TimerNode* TimerHeap::pop_due(Clock::time_point now) noexcept {
    if (heap_.empty() || heap_.front().when > ticks(now)) return nullptr;
    TimerNode* node = heap_.front().node;
    erase(node);
    return node;
}

}  // namespace aio::detail
