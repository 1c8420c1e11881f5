#pragma once
#include <ATen/core/Tensor.h>

#include <string>

#include "core/data/dataset.h"

namespace pbe {

// Readers for the IDX format of MNIST and Fashion-MNIST (gzipped or plain; zlib reads both).
// Every problem (missing file, wrong magic, truncated data, corrupt gzip) throws DataError
// naming the file.

// uint8 [N, 1, rows, cols] from an idx3-ubyte file (magic 0x00000803).
at::Tensor read_idx_images(const std::string& path);
// int64 [N] from an idx1-ubyte file (magic 0x00000801).
at::Tensor read_idx_labels(const std::string& path);

// The four standard files in `dir`: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. With
// `test_optional`, a directory without both t10k files gives an empty test split.
TrainTest load_idx_dataset(const std::string& dir, const std::string& name, int num_classes = 10,
                           bool test_optional = false);

}  // namespace pbe
