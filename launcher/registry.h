#pragma once
// The attacks and defenses a spec names, read through the registries they add themselves to
// (core/attacks/registry.h, core/defenses/registry.h) with their options structs' keys.
#include <string>

#include "core/errors.h"
#include "launcher/spec.h"
#include "launcher/yaml_map.h"

namespace pbe {

// `entry` is one item of `attacks:` / `defenses:` (a mapping with `name` and options), `name` a
// registered one. Attacks are built for the dataset's image shape and class count, so a trigger
// that does not fit fails here, at the entry's line.
AttackEntry parse_attack(YamlMap& entry, const std::string& name, const ImageShape& shape);
DefenseEntry parse_defense(YamlMap& entry, const std::string& name);

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
