#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace pbe {

// What a dataset's official release holds: the sizes a folder is checked against before runs use it.
struct Release {
  int64_t train = 0;      // Training images
  int64_t test = 0;       // Test images
  int classes = 0;
  bool balanced = false;  // Every class has train/classes and test/classes images (CIFAR-10, Fashion-MNIST)
};

// The official release of `name` (fashion-mnist, mnist, cifar10, gtsrb); all zero for synthetic.
Release official_release(const std::string& name);

struct ReleaseCounts {
  std::vector<int64_t> train_per_class, test_per_class;
  int64_t train() const;
  int64_t test() const;
};

// Reads the folder with the readers runs use (every file, size and label checked there) and checks
// that it is the whole release `expected`: split sizes, every class present, class counts when
// balanced, and for cifar10 five training batches of equal size. Throws DataError naming `path`
// (or the file) and the first difference; returns the class counts.
ReleaseCounts check_release(const std::string& name, const std::string& path, const Release& expected);

}  // namespace pbe
