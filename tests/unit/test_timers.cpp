// The loop's timer heap (aio/detail/timers.hpp): deadline order, scheduling order for
// equal deadlines (also across the wrap of its 32-bit sequence numbers), erase and
// reschedule. The loop-level behaviour (call_at, sleep) is pinned in test_loop/test_sleep.
#include "aio/detail/timers.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace {

using aio::Clock;
using aio::detail::TimerHeap;
using aio::detail::TimerNode;

Clock::time_point at(int ms) { return Clock::time_point(std::chrono::milliseconds(ms)); }

std::vector<int> drain(TimerHeap& heap, std::vector<TimerNode>& nodes, Clock::time_point now) {
    std::vector<int> order;
    while (TimerNode* n = heap.pop_due(now)) order.push_back(static_cast<int>(n - nodes.data()));
    return order;
}

TEST(TimerHeap, EarliestDeadlineFirst) {
    TimerHeap heap;
    std::vector<TimerNode> nodes(5);
    const int deadlines[] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; ++i) {
        nodes[i].when = at(deadlines[i]);
        heap.push(&nodes[i]);
    }
    EXPECT_EQ(drain(heap, nodes, at(25)), (std::vector<int>{1, 3}));
    EXPECT_EQ(drain(heap, nodes, at(100)), (std::vector<int>{4, 2, 0}));
    EXPECT_TRUE(heap.empty());
}

TEST(TimerHeap, EqualDeadlinesFireInSchedulingOrderAcrossTheSequenceWrap) {
    // The sequence numbers run from 2^32 - 100 over the wrap to 100.
    TimerHeap heap(0xffffffffu - 99u);
    std::vector<TimerNode> nodes(200);
    for (auto& n : nodes) {
        n.when = at(7);
        heap.push(&n);
    }
    std::vector<int> expected;
    for (int i = 0; i < 200; ++i) expected.push_back(i);
    EXPECT_EQ(drain(heap, nodes, at(7)), expected);
}

TEST(TimerHeap, EraseAndRescheduleKeepTheOrder) {
    TimerHeap heap;
    std::vector<TimerNode> nodes(4);
    for (int i = 0; i < 4; ++i) {
        nodes[i].when = at(10 * (i + 1));
        heap.push(&nodes[i]);
    }
    heap.erase(&nodes[1]);
    EXPECT_FALSE(nodes[1].queued());
    heap.reschedule(&nodes[3], at(5));
    EXPECT_EQ(drain(heap, nodes, at(100)), (std::vector<int>{3, 0, 2}));
    for (const auto& n : nodes) EXPECT_FALSE(n.queued());
}

}  // namespace
