#include "core/data/dataset_source.h"

#include <tuple>

#include "core/errors.h"
#include "util/join.h"

namespace pbe {

const DatasetPlugin& dataset_plugin(const std::string& name) {
  const DatasetPlugin* plugin = DatasetRegistry::instance().find(name);
  if (!plugin)
    throw ConfigError("unknown dataset '" + name + "' (known: " + join(DatasetRegistry::instance().names()) + ")");
  return *plugin;
}

std::vector<std::string> known_datasets() { return DatasetRegistry::instance().names(); }

std::vector<std::string> file_datasets() {
  std::vector<std::string> out;
  for (const DatasetPlugin* d : DatasetRegistry::instance().all())
    if (d->reads_files) out.push_back(d->name);
  return out;
}

ImageShape image_shape(const DatasetOptions& o) { return dataset_plugin(o.name).shape(o); }

DatasetInfo dataset_info(const std::string& name, int channels) { return dataset_plugin(name).info(channels); }

TrainTest load_dataset(const DatasetOptions& o) {
  const DatasetPlugin& dataset = dataset_plugin(o.name);
  const std::string path = o.path.empty() ? dataset.default_path : o.path;
  if (dataset.reads_files && path.empty()) throw ConfigError("dataset '" + o.name + "' needs a path (dataset.path)");
  TrainTest data = dataset.load(path, o);
  for (const auto& [key, k, set] : {std::tuple{"train_subset", o.train_subset, &data.train},
                                    std::tuple{"test_subset", o.test_subset, &data.test}})
    if (k > set->size())
      throw ConfigError("dataset." + std::string(key) + ": " + std::to_string(k) + " is more than the " +
                        std::to_string(set->size()) + " images of " + o.name + (path.empty() ? "" : " in " + path));
  data.train = seeded_subset(data.train, o.train_subset, o.subset_seed);
  data.test = seeded_subset(data.test, o.test_subset, o.subset_seed + 1);
  return data;
}

}  // namespace pbe
