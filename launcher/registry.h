#pragma once
// Attack and defense names the spec accepts, and the one place their YAML options are parsed.
#include <string>
#include <vector>

#include "launcher/spec.h"
#include "launcher/yaml_map.h"

namespace pbe {

const std::vector<std::string>& attack_names();
const std::vector<std::string>& defense_names();

// `entry` is one item of `attacks:` / `defenses:` (a mapping with `name` and options).
// `num_classes` lets attacks check their target label.
AttackEntry parse_attack(YamlMap& entry, const std::string& name, int num_classes);
DefenseEntry parse_defense(YamlMap& entry, const std::string& name);

// `schedule: cosine | multistep | constant` of a training or defense block.
LrSchedule parse_schedule(YamlMap& map, LrSchedule fallback);
const char* schedule_name(LrSchedule schedule);

}  // namespace pbe
