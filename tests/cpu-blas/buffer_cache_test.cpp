// The cpu-blas activation cache: blocks come back by size, a smaller request reuses
// a block of up to twice its size, and such a block returns to the cache under its
// real size.
#include "buffer_cache.h"

#include <gtest/gtest.h>

#include <cstring>

namespace {

constexpr size_t kMiB = size_t{1} << 20;

TEST(BufferCache, ReusesBlocksOfTheSameSize) {
    sdw::cpu::BufferCache cache(64 * kMiB);
    void *a = cache.acquire(4 * kMiB);
    std::memset(a, 1, 4 * kMiB);
    cache.release(a, 4 * kMiB);
    EXPECT_EQ(cache.cached_bytes(), 4 * kMiB);
    EXPECT_EQ(cache.acquire(4 * kMiB), a);
    EXPECT_EQ(cache.cached_bytes(), 0u);
    cache.release(a, 4 * kMiB);
}

TEST(BufferCache, SmallerRequestTakesABlockOfUpToTwiceItsSize) {
    sdw::cpu::BufferCache cache(64 * kMiB);
    void *big = cache.acquire(8 * kMiB);
    void *huge = cache.acquire(20 * kMiB);
    cache.release(big, 8 * kMiB);
    cache.release(huge, 20 * kMiB);
    void *half = cache.acquire(5 * kMiB);  // 8 MiB fits, 20 MiB is too big
    EXPECT_EQ(half, big);
    std::memset(half, 2, 8 * kMiB);        // the whole real block is ours (ASan checks)
    EXPECT_EQ(cache.cached_bytes(), 20 * kMiB);
    cache.release(half, 5 * kMiB);         // back under its real size
    EXPECT_EQ(cache.cached_bytes(), 28 * kMiB);
    EXPECT_EQ(cache.acquire(8 * kMiB), big);
    void *other = cache.acquire(3 * kMiB);  // nothing within 3..6 MiB: a fresh block
    EXPECT_NE(other, big);
    EXPECT_NE(other, huge);
    cache.release(other, 3 * kMiB);
    cache.release(big, 8 * kMiB);
    cache.trim();
    EXPECT_EQ(cache.cached_bytes(), 0u);
}

TEST(BufferCache, StaysUnderItsCap) {
    sdw::cpu::BufferCache cache(10 * kMiB);
    void *a = cache.acquire(4 * kMiB), *b = cache.acquire(4 * kMiB), *c = cache.acquire(4 * kMiB);
    cache.release(a, 4 * kMiB);
    cache.release(b, 4 * kMiB);
    cache.release(c, 4 * kMiB);  // the oldest (a) is freed to make room
    EXPECT_EQ(cache.cached_bytes(), 8 * kMiB);
}

}  // namespace
