#pragma once
// How much memory this machine has, so that work which cannot fit (a data file whose header
// claims billions of images, a huge synthetic set) is refused in one line before it starts, not
// ended by the kernel's OOM killer or an allocator's stack trace.
#include <cstdint>
#include <string>

namespace pbe {

// Physical memory in bytes; 0 when the system does not say.
int64_t physical_memory_bytes();

// "812 B", "12.0 KiB", "1.5 GiB", "13.1 TiB".
std::string format_bytes(double bytes);

// "" when `bytes` fit in physical memory; else "<what> would need <X>, more than this machine's
// <Y> of memory".
std::string memory_problem(double bytes, const std::string& what);

}  // namespace pbe
