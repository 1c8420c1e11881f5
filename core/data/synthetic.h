#pragma once
#include "core/data/dataset.h"

namespace pbe {

// A tiny, learnable, seeded image-classification problem for tests: each class is a smooth random
// prototype image; samples are the prototype under pixel noise. A small CNN separates it in one epoch.
struct SyntheticOptions {
  int num_classes = 4;     // Default: 4
  int channels = 1;        // Default: 1
  int size = 12;           // Height = width. Default: 12
  int64_t train_size = 512;
  int64_t test_size = 256;
  double noise = 0.15;     // Pixel noise std in [0, 1] units. Default: 0.15
  uint64_t seed = 0;       // Same seed -> same bytes.
};

TrainTest make_synthetic(const SyntheticOptions& options);

}  // namespace pbe
