#pragma once
// Options structs (core/options.h) read from one YAML mapping of a spec: each key the struct
// declares is read if present (its default stays otherwise) and its effective value recorded as
// text for the results file, so what is parsed and what is recorded never diverge. Blocks are
// read from nested mappings and recorded as <block>.<key>.
#include <string>
#include <vector>

#include "core/data/augmentation.h"
#include "core/options.h"
#include "launcher/yaml_map.h"
#include "storage/records.h"

namespace pbe {

class YamlOptions final : public OptionVisitor {
 public:
  explicit YamlOptions(YamlMap& map) : map_(map) {}
  void operator()(const char* key, int& value, const char*) override { read(key, value); }
  void operator()(const char* key, int64_t& value, const char*) override { read(key, value); }
  void operator()(const char* key, uint64_t& value, const char*) override { read(key, value); }
  void operator()(const char* key, double& value, const char*) override { read(key, value); }
  void operator()(const char* key, bool& value, const char*) override { read(key, value); }
  void operator()(const char* key, std::string& value, const char*) override { read(key, value); }
  void operator()(const char* key, std::vector<int>& value, const char*) override { read(key, value); }
  void operator()(const char* key, std::vector<double>& value, const char*) override { read(key, value); }
  void operator()(const char* key, DefenseAugmentation& value, const char* doc) override;
  void choice(const char* key, size_t& index, const std::vector<std::string>& names, const char* doc) override;
  void block(const char* key, const std::function<void(OptionVisitor&)>& body, const char* doc) override;
  using OptionVisitor::choice;

  void record(const std::string& key, const std::string& value) { recorded_.emplace_back(key, value); }
  YamlMap& map() { return map_; }
  const NamedStrings& recorded() const { return recorded_; }

 private:
  template <class T>
  void read(const char* key, T& value);
  YamlMap& map_;
  NamedStrings recorded_;
};

// `visit`s `options` over the mapping `map` (unknown keys are left for map.finish()).
template <class Options>
NamedStrings read_options(YamlMap& map, Options& options) {
  YamlOptions reader(map);
  options.visit(reader);
  return reader.recorded();
}

// An `augmentation:` mapping read over `augmentation` (the keys it gives replace those values),
// with no other keys, and checked (check_augmentation): ConfigError at the mapping's line.
// Returns the effective values, for the record.
NamedStrings read_augmentation(YamlMap& block, Augmentation& augmentation);

}  // namespace pbe
