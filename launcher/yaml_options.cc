#include "launcher/yaml_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/defenses/aft.h"
#include "core/errors.h"

namespace pbe {

template <class T>
void YamlOptions::read(const char* key, T& value) {
  value = map_.get(key, value);
  record(key, fmt::format("{}", value));
}

void YamlOptions::choice(const char* key, size_t& index, const std::vector<std::string>& names, const char*) {
  const std::string name = map_.get<std::string>(key, names.at(index));
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    std::string expected;
    for (size_t i = 0; i < names.size(); ++i)
      expected += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    map_.fail(map_.node(key), key, "expected " + expected + ", got '" + name + "'");
  }
  index = static_cast<size_t>(it - names.begin());
  record(key, name);
}

void YamlOptions::block(const char* key, const std::function<void(OptionVisitor&)>& body, const char*) {
  YamlMap m = map_.map(key);
  YamlOptions inner(m);
  body(inner);
  m.finish();
  for (const auto& [k, v] : inner.recorded()) record(std::string(key) + "." + k, v);
}

NamedStrings read_augmentation(YamlMap& block, Augmentation& augmentation) {
  const NamedStrings recorded = read_options(block, augmentation);
  block.finish();
  try {
    check_augmentation(augmentation, "augmentation");
  } catch (const ConfigError& e) {
    block.fail(block.yaml(), "", e.what());
  }
  return recorded;
}

void YamlOptions::operator()(const char* key, DefenseAugmentation& value, const char*) {
  using Kind = DefenseAugmentation::Kind;
  if (map_.has(key) && !map_.node(key).IsScalar()) {
    YamlMap a = map_.map(key);
    value.kind = Kind::kCustom;
    value.custom = Augmentation{};
    for (const auto& [k, v] : read_augmentation(a, value.custom)) record(std::string(key) + "." + k, v);
  } else if (map_.has(key)) {
    const auto name = map_.get<std::string>(key, "");
    if (name == "auto") value.kind = Kind::kAuto;
    else if (name == "release") value.kind = Kind::kRelease;
    else if (name == "dataset") value.kind = Kind::kDataset;
    else map_.fail(map_.node(key), key, "expected auto, release, dataset or a mapping, got '" + name + "'");
  }
  record(key, value.name());
}

}  // namespace pbe
