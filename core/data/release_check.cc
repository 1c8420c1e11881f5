#include "core/data/release_check.h"

#include <filesystem>
#include <numeric>

#include "core/data/dataset_source.h"
#include "core/errors.h"

namespace pbe {
namespace {

std::vector<int64_t> class_counts(const Dataset& d, int classes) {
  auto counts = d.labels.bincount({}, classes);
  return {counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel()};
}

void check_split(const std::string& path, const char* split, const std::vector<int64_t>& counts,
                 int64_t expected, const Release& release) {
  const int64_t total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  if (total != expected)
    throw DataError(path + ": " + std::to_string(total) + " " + split + " images, the release has " +
                    std::to_string(expected) + " (a partial or different copy?)");
  for (size_t c = 0; c < counts.size(); ++c)
    if (counts[c] == 0) throw DataError(path + ": no " + split + " image of class " + std::to_string(c));
  for (size_t c = 0; c < counts.size(); ++c) {
    if (release.balanced && counts[c] != expected / release.classes)
      throw DataError(path + ": class " + std::to_string(c) + " has " + std::to_string(counts[c]) + " " + split +
                      " images, the release has " + std::to_string(expected / release.classes) +
                      " of each (duplicated or replaced batches?)");
  }
}

}  // namespace

Release official_release(const std::string& name) { return dataset_plugin(name).release; }

int64_t ReleaseCounts::train() const {
  return std::accumulate(train_per_class.begin(), train_per_class.end(), int64_t{0});
}
int64_t ReleaseCounts::test() const {
  return std::accumulate(test_per_class.begin(), test_per_class.end(), int64_t{0});
}

ReleaseCounts check_release(const std::string& name, const std::string& path, const Release& expected) {
  if (expected.train == 0) throw ConfigError("dataset '" + name + "' has no official release to check against");
  if (!std::filesystem::is_directory(path)) throw DataError(path + ": no such folder");
  if (const auto& check_files = dataset_plugin(name).check_files) check_files(path, expected);
  DatasetOptions options;
  options.name = name;
  options.path = path;
  const TrainTest data = load_dataset(options);
  ReleaseCounts counts{class_counts(data.train, expected.classes), class_counts(data.test, expected.classes)};
  check_split(path, "training", counts.train_per_class, expected.train, expected);
  check_split(path, "test", counts.test_per_class, expected.test, expected);
  return counts;
}

}  // namespace pbe
