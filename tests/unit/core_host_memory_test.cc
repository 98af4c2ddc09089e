// keep_freed_host_memory: blocks up to 32 MiB come from the heap, and freed memory at the top
// of the heap stays mapped instead of going back to the kernel.
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "roost/core/host_memory.h"

namespace roost {
namespace {

TEST(HostMemory, RecognisesTheUsersMallocTunables) {
  EXPECT_TRUE(user_tunes_malloc("glibc.malloc.trim_threshold=0"));
  EXPECT_TRUE(user_tunes_malloc("glibc.cpu.hwcaps=-AVX:glibc.malloc.mmap_threshold=1"));
  EXPECT_FALSE(user_tunes_malloc("glibc.cpu.hwcaps=-AVX"));
  EXPECT_FALSE(user_tunes_malloc(""));
}

TEST(HostMemory, LargeBlocksComeFromTheHeapAndStayMappedWhenFreed) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's allocator replaces glibc malloc; mallopt has no effect";
#else
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables && user_tunes_malloc(tunables)) GTEST_SKIP() << "GLIBC_TUNABLES sets malloc tunables";
  ASSERT_TRUE(keep_freed_host_memory());
  // 8 blocks of 16 MiB: above glibc's default mmap threshold (128 KiB, raised on the fly up
  // to 32 MiB at most) and, freed together, above the largest trim threshold glibc would pick
  // for itself (64 MiB), so both settings are needed for this to hold.
  constexpr size_t kBlock = size_t{16} << 20;
  const size_t mapped_before = mallinfo2().hblkhd;
  std::vector<void*> blocks;
  for (int i = 0; i < 8; ++i) {
    blocks.push_back(std::malloc(kBlock));
    ASSERT_NE(blocks.back(), nullptr);
    std::memset(blocks.back(), i, kBlock);
  }
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before) << "a 16 MiB block was mapped from the kernel";
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
  // Still part of the heap, free for the next allocation.
  EXPECT_GE(mallinfo2().fordblks, 8 * kBlock) << "freed memory went back to the kernel";
#endif
}

}  // namespace
}  // namespace roost
