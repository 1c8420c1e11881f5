#include "util/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <limits>

namespace pbe {

int64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
}

void keep_freed_memory() {
#ifdef M_MMAP_THRESHOLD
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
  ::mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
#endif
}

std::string format_bytes(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024 && unit + 1 < static_cast<int>(sizeof kUnits / sizeof *kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  char out[32];
  std::snprintf(out, sizeof out, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[unit]);
  return out;
}

std::string memory_problem(double bytes, const std::string& what) {
  const int64_t memory = physical_memory_bytes();
  if (memory <= 0 || bytes <= static_cast<double>(memory)) return "";
  return what + " would need " + format_bytes(bytes) + ", more than this machine's " +
         format_bytes(static_cast<double>(memory)) + " of memory";
}

}  // namespace pbe
