// The frame allocator and the large arrays (aio/detail/frame_alloc.hpp).
#include "aio/detail/frame_alloc.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace {

using aio::detail::BigArray;
using aio::detail::frame_alloc;
using aio::detail::frame_free;

TEST(FrameAlloc, BlocksAreDistinctAlignedAndReused) {
    std::vector<void*> blocks;
    std::set<void*> seen;
    for (int i = 0; i < 5000; ++i) {  // more than one slab of the class
        void* p = frame_alloc(112);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u);
        EXPECT_TRUE(seen.insert(p).second) << "block handed out twice";
        static_cast<char*>(p)[0] = 1;
        static_cast<char*>(p)[111] = 2;
        blocks.push_back(p);
    }
#if !AIOCPP_PLAIN_ALLOC  // sanitizer builds use operator new, which may hand out anything
    void* last = blocks.back();
    frame_free(last, 112);
    EXPECT_EQ(frame_alloc(112), last);  // the freed block comes back first
#endif
    for (void* p : blocks) frame_free(p, 112);
}

TEST(FrameAlloc, LargeFramesFallBackToOperatorNew) {
    void* p = frame_alloc(4096);
    static_cast<char*>(p)[4095] = 1;
    frame_free(p, 4096);
}

TEST(BigArray, GrowsPastHugePagesKeepingItsData) {
    BigArray<std::uint64_t> big;
    for (std::uint64_t i = 0; i < 1'000'000; ++i) big.push_back(i * 3);  // several remaps past 2 MiB
    ASSERT_EQ(big.size(), 1'000'000u);
    for (std::uint64_t i = 0; i < big.size(); ++i) ASSERT_EQ(big[i], i * 3);
#if !AIOCPP_PLAIN_ALLOC
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(big.data()) % (2 * 1024 * 1024), 0u);
#endif
    big.pop_back();
    EXPECT_EQ(big.back(), 999'998u * 3);
}

TEST(BigArray, ResizeValueInitializes) {
    BigArray<int> small;
    small.resize(100);
    EXPECT_EQ(small[99], 0);
    small[5] = 7;
    small.resize(300'000);  // past the huge-page threshold: moved, not reset
    EXPECT_EQ(small[5], 7);
    EXPECT_EQ(small[299'999], 0);
    int sum = 0;
    for (int v : small) sum += v;
    EXPECT_EQ(sum, 7);
}

}  // namespace
