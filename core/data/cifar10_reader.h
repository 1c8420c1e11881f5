#pragma once
#include <cstdint>
#include <string>

#include "core/data/dataset.h"

namespace pbe {

// Bytes of one CIFAR-10 record: 1 label byte + 3072 pixel bytes.
constexpr int64_t kCifar10RecordBytes = 1 + 3 * 32 * 32;
// The path of training batch `i` (1..5) in `dir`: dir/data_batch_i.bin.
std::string cifar10_train_batch(const std::string& dir, int i);

// CIFAR-10's binary format: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32).
// Throws DataError naming the file for a missing file, a size that is not a whole number of
// records, or a label outside 0..9.
Dataset read_cifar10_batch(const std::string& path);

// data_batch_1..5.bin (train) and test_batch.bin (test) from `dir`.
// With `test_optional`, a directory without test_batch.bin gives an empty test split.
TrainTest load_cifar10(const std::string& dir, bool test_optional = false);

}  // namespace pbe
