#include "util/memory.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kGlibcMalloc = false;  // the sanitizers bring their own allocator
#else
constexpr bool kGlibcMalloc = true;
#endif

// A tensor-sized block (a [64, 32, 28, 28] float activation) freed and allocated again comes from
// the heap, not from a fresh mmap: no page faults for the same buffer every step.
TEST(KeepFreedMemory, TensorSizedBlocksStayInTheHeap) {
  if (!kGlibcMalloc) GTEST_SKIP() << "not glibc's malloc";
  constexpr size_t kBlock = 64 * 32 * 28 * 28 * sizeof(float);  // 6.1 MiB
  const auto mapped = [] { return mallinfo2().hblkhd; };
  const size_t before = mapped();
  pbe::keep_freed_memory();
  void* block = std::malloc(kBlock);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  EXPECT_LT(mapped(), before + kBlock) << "the block was mmapped";
  const size_t heap = mallinfo2().arena;
  std::free(block);
  EXPECT_GE(mallinfo2().arena, heap) << "the heap was trimmed";
  // Back to glibc's defaults (dynamic threshold from 128 KiB) for the other tests.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
}

}  // namespace
