// The frame allocator and the large-array allocator (aio/detail/frame_alloc.hpp).
#include "aio/detail/frame_alloc.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace {

using aio::detail::BigAllocator;
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

TEST(BigAllocator, LargeArraysAreHugePageAlignedAndHoldTheirData) {
    std::vector<std::uint64_t, BigAllocator<std::uint64_t>> big;
    for (std::uint64_t i = 0; i < 400'000; ++i) big.push_back(i * 3);  // grows past 1 MiB
    for (std::uint64_t i = 0; i < big.size(); ++i) ASSERT_EQ(big[i], i * 3);
#if !AIOCPP_PLAIN_ALLOC
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(big.data()) % (2 * 1024 * 1024), 0u);
#endif
    std::vector<int, BigAllocator<int>> small(100, 7);
    EXPECT_EQ(small[99], 7);
}

}  // namespace
