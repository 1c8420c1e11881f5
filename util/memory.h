#pragma once
// How much memory this machine has, so that work which cannot fit (a data file whose header
// claims billions of images, a huge synthetic set) is refused in one line before it starts, not
// ended by the kernel's OOM killer or an allocator's stack trace.
#include <cstdint>
#include <string>

namespace pbe {

// Physical memory in bytes; 0 when the system does not say.
int64_t physical_memory_bytes();

// Tensor buffers of a few MiB are allocated and freed in every layer of every step. glibc hands
// blocks above its mmap threshold back to the kernel at once, so each step pays page faults for
// the same buffers again (a tenth of the small CNN's step on the development machine,
// docs/performance.md). This keeps blocks up to 32 MiB (glibc's largest threshold) in the heap and
// never trims it: freed buffers are reused, and a rank's resident memory stays at its peak. Call
// first thing in main(). The same as GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:
// glibc.malloc.trim_threshold=2147483647; a no-op under other allocators.
void keep_freed_memory();

// "812 B", "12.0 KiB", "1.5 GiB", "13.1 TiB".
std::string format_bytes(double bytes);

// "" when `bytes` fit in physical memory; else "<what> would need <X>, more than this machine's
// <Y> of memory".
std::string memory_problem(double bytes, const std::string& what);

}  // namespace pbe
