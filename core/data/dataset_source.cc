#include "core/data/dataset_source.h"

#include <algorithm>

#include "core/data/cifar10_reader.h"
#include "core/data/gtsrb_reader.h"
#include "core/data/idx_reader.h"
#include "core/errors.h"

namespace pbe {

const std::vector<std::string>& known_datasets() {
  static const std::vector<std::string> names{"fashion-mnist", "mnist", "cifar10", "gtsrb", "synthetic"};
  return names;
}

std::string default_dataset_path(const std::string& name) {
  if (name == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";
  return "";
}

ImageShape image_shape(const DatasetOptions& o) {
  if (o.name == "synthetic")
    return {o.synthetic.channels, o.synthetic.size, o.synthetic.size, o.synthetic.num_classes};
  if (o.name == "cifar10") return {3, 32, 32, 10};
  if (o.name == "gtsrb") return {3, kGtsrbSize, kGtsrbSize, kGtsrbClasses};
  return {1, 28, 28, 10};  // fashion-mnist, mnist
}

DatasetInfo dataset_info(const std::string& name, int channels) {
  DatasetInfo info;
  if (name == "fashion-mnist") {
    info.mean = {0.2860};
    info.std = {0.3530};
    info.augmentation = {2, false};
  } else if (name == "mnist") {
    info.mean = {0.1307};
    info.std = {0.3081};
    info.augmentation = {2, false};
  } else if (name == "cifar10") {
    info.mean = {0.4914, 0.4822, 0.4465};
    info.std = {0.2470, 0.2435, 0.2616};
    info.augmentation = {4, true};
  } else if (name == "gtsrb") {  // BackdoorBench's statistics; no flips for traffic signs
    info.mean = {0.3403, 0.3121, 0.3214};
    info.std = {0.2724, 0.2608, 0.2669};
    info.augmentation = {4, false};
  } else {
    info.mean.assign(channels, 0.5);
    info.std.assign(channels, 0.25);
  }
  return info;
}

TrainTest load_dataset(const DatasetOptions& o) {
  TrainTest data;
  std::string path = o.path.empty() ? default_dataset_path(o.name) : o.path;
  if (o.name == "synthetic") {
    data = make_synthetic(o.synthetic);
  } else if (path.empty()) {
    throw ConfigError("dataset '" + o.name + "' needs a path (dataset.path)");
  } else if (o.name == "fashion-mnist" || o.name == "mnist") {
    data = load_idx_dataset(path, o.name, 10, o.test_optional);
  } else if (o.name == "cifar10") {
    data = load_cifar10(path, o.test_optional);
  } else if (o.name == "gtsrb") {
    data = load_gtsrb(path, o.test_optional);
  } else {
    throw ConfigError("unknown dataset '" + o.name + "'");
  }
  data.train = seeded_subset(data.train, o.train_subset, o.subset_seed);
  data.test = seeded_subset(data.test, o.test_subset, o.subset_seed + 1);
  return data;
}

}  // namespace pbe
