#pragma once
// The datasets a spec, `pbe_dist data` and `purify --format` can name. Each registers itself from
// its reader's .cc (idx_reader.cc: fashion-mnist and mnist, cifar10_reader.cc, gtsrb_reader.cc,
// synthetic.cc) with everything the rest of the code asks of a dataset.
#include <functional>
#include <string>
#include <vector>

#include "core/data/augmentation.h"
#include "core/data/dataset.h"
#include "core/registry.h"

namespace pbe {

struct DatasetOptions;

// What a dataset's official release holds: the sizes a folder is checked against before runs use it.
struct Release {
  int64_t train = 0;      // Training images
  int64_t test = 0;       // Test images
  int classes = 0;
  bool balanced = false;  // Every class has train/classes and test/classes images (CIFAR-10, Fashion-MNIST)
};

// Per-dataset facts the model and trainer need.
struct DatasetInfo {
  std::vector<double> mean, std;  // Per-channel normalisation applied inside the model.
  Augmentation augmentation;      // The usual training augmentation for this dataset.
};

struct DatasetPlugin {
  std::string name;     // As specs name it.
  std::string summary;  // One line: what it is and the files it reads.
  // The image shape and class count `options` will load, known before loading anything.
  std::function<ImageShape(const DatasetOptions& options)> shape;
  // Statistics and the usual augmentation, for images of `channels` channels.
  std::function<DatasetInfo(int channels)> info;
  bool reads_files = true;           // False: generated (synthetic), no path.
  std::string default_path;          // Where it is looked for when the spec gives no path ("": required).
  Release release;                   // The official release (all zero: none).
  // The train and test splits in the folder `path` (`test_optional`: none gives an empty test
  // split); DataError naming the file for anything missing, truncated or corrupt.
  std::function<TrainTest(const std::string& path, const DatasetOptions& options)> load;
  // The release's file layout beyond sizes and labels (CIFAR-10's five equal batches), checked by
  // `pbe_dist data` before reading; may be empty.
  std::function<void(const std::string& path, const Release& release)> check_files;
};
using DatasetRegistry = Registry<DatasetPlugin>;

// The registered dataset `name`; ConfigError "unknown dataset '<name>' (known: ...)" otherwise.
const DatasetPlugin& dataset_plugin(const std::string& name);

}  // namespace pbe
