#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/data/registry.h"

namespace pbe {

// The official release of `name` (core/data/registry.h); all zero for a generated dataset.
// ConfigError for an unknown name.
Release official_release(const std::string& name);

struct ReleaseCounts {
  std::vector<int64_t> train_per_class, test_per_class;
  int64_t train() const;
  int64_t test() const;
};

// Reads the folder with the readers runs use (every file, size and label checked there) and checks
// that it is the whole release `expected`: split sizes, every class present, class counts when
// balanced, and the dataset's own file checks (CIFAR-10: five training batches of equal size).
// Throws DataError naming `path` (or the file) and the first difference; returns the class counts.
ReleaseCounts check_release(const std::string& name, const std::string& path, const Release& expected);

}  // namespace pbe
