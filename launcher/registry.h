#pragma once
// Attack and defense names the spec accepts, and the one place their YAML options are parsed
// (attack_registry.cc, defense_registry.cc).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>
#include <string>
#include <vector>

#include "core/adversarial/pgd.h"
#include "core/defenses/aft.h"
#include "core/errors.h"
#include "launcher/spec.h"
#include "launcher/yaml_map.h"

namespace pbe {

const std::vector<std::string>& attack_names();
const std::vector<std::string>& defense_names();

// `entry` is one item of `attacks:` / `defenses:` (a mapping with `name` and options).
// Attacks are built for the dataset's image shape and class count, so a trigger that does not
// fit fails here, at the entry's line.
AttackEntry parse_attack(YamlMap& entry, const std::string& name, const ImageShape& shape);
DefenseEntry parse_defense(YamlMap& entry, const std::string& name);

// `schedule: cosine | multistep | constant` of a training or defense block.
LrSchedule parse_schedule(YamlMap& map, LrSchedule fallback);
const char* schedule_name(LrSchedule schedule);

// Reads options from an entry and records each effective value (given or default) as text for
// the results file, so what is parsed and what is recorded never diverge.
class OptionReader {
 public:
  explicit OptionReader(YamlMap& map) : map_(map) {}
  template <class T>
  T operator()(const std::string& key, const T& fallback) {
    T value = map_.get(key, fallback);
    record(key, fmt::format("{}", value));
    return value;
  }
  void record(const std::string& key, const std::string& value) { recorded_.emplace_back(key, value); }
  YamlMap& map() { return map_; }
  const NamedStrings& recorded() const { return recorded_; }

 private:
  YamlMap& map_;
  NamedStrings recorded_;
};

// The `pgd:` block of an attack or defense: norm (linf, l2), eps, step_size, steps,
// random_start, targeted, clamp; recorded as pgd.<key> (attack_registry.cc).
void read_pgd(OptionReader& reader, PgdOptions& options);

// An AFT/PBE `augmentation:` value: auto (the default), release, dataset (DefenseAugmentation),
// or a mapping {crop_padding, crop_probability, rotation_degrees, rotation_probability,
// horizontal_flip} over no augmentation; recorded as augmentation (and augmentation.<key>).
void read_augmentation(OptionReader& parent, DefenseAugmentation& augmentation);
// The keys of an augmentation mapping read over `base` (the dataset block's, the defenses').
Augmentation read_augmentation_keys(YamlMap& block, Augmentation base, OptionReader* record = nullptr);

// Builds with `make`, turning a ConfigError or DataError from an options struct's own checks
// into one at the entry's line and key path.
template <class F>
auto checked_build(YamlMap& m, F make) {
  try {
    return make();
  } catch (const ConfigError& e) {
    m.fail(m.node("name"), "", e.what());
  } catch (const DataError& e) {
    m.fail(m.node("name"), "", e.what());
  }
}

}  // namespace pbe
