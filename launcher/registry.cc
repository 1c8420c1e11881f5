#include "launcher/registry.h"

#include "core/attacks/registry.h"
#include "core/defenses/registry.h"
#include "launcher/yaml_options.h"

namespace pbe {

AttackEntry parse_attack(YamlMap& m, const std::string& name, const ImageShape& shape) {
  YamlOptions reader(m);
  const auto make = AttackRegistry::instance().find(name)->read(reader);
  AttackEntry e;
  e.prototype = checked_build(m, [&] { return std::shared_ptr<const Attack>(make(shape)); });
  e.make = [make, shape] { return make(shape); };
  e.options = reader.recorded();
  return e;
}

DefenseEntry parse_defense(YamlMap& m, const std::string& name) {
  YamlOptions reader(m);
  const auto make = DefenseRegistry::instance().find(name)->read(reader);
  DefenseEntry e;
  e.defense = checked_build(m, make);
  e.options = reader.recorded();
  return e;
}

}  // namespace pbe
