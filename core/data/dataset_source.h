#pragma once
#include <string>
#include <vector>

#include "core/data/dataset.h"
#include "core/data/registry.h"
#include "core/data/synthetic.h"

namespace pbe {

// Where a run's data comes from and how it is cut down; parsed from the spec's `dataset:` block.
struct DatasetOptions {
  std::string name = "fashion-mnist";  // A registered dataset (core/data/registry.h)
  std::string path;                    // Default: the dataset's default_path
  int64_t train_subset = 0;            // Keep this many training images (seeded); 0 = all.
  int64_t test_subset = 0;             // Keep this many test images (seeded); 0 = all.
  uint64_t subset_seed = 0;            // Seed of the subsets, fixed across run seeds. Default: 0
  bool test_optional = false;          // Files without a test split load with an empty one.
  SyntheticOptions synthetic;          // Only for name == synthetic.
};

std::vector<std::string> known_datasets();
// The registered datasets read from files (not generated): what `pbe_dist data` and purify take.
std::vector<std::string> file_datasets();
DatasetInfo dataset_info(const std::string& name, int channels);
// The image shape and class count `options` will load, known before loading anything.
ImageShape image_shape(const DatasetOptions& options);

// Loads (or generates) the data and applies the subsets. Throws DataError / ConfigError (a subset
// larger than its set among them).
TrainTest load_dataset(const DatasetOptions& options);

}  // namespace pbe
