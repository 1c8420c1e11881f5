#pragma once
// The attacks a spec can name. Each attack registers itself at the end of its own .cc,
//   PBE_REGISTER_ATTACK(BadNets, BadNetsOptions, "badnets", "BadNets (Gu et al. 2017): ...")
// and its options struct declares its keys (core/options.h): the spec reader, the results file's
// record of options and `pbe_dist list` (docs/options.md) all follow from these two.
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "core/attacks/attack.h"
#include "core/registry.h"

namespace pbe {

struct AttackPlugin {
  std::string name;     // As specs name it.
  std::string summary;  // One line: what it is, after which paper.
  // Reads the options through `v` (the defaults where it says nothing) and returns what makes a
  // fresh attack with them for images of a shape (attacks keep per-cell state); that throws
  // ConfigError "<name>: ..." for options that do not fit the shape.
  std::function<std::function<std::unique_ptr<Attack>(const ImageShape&)>(OptionVisitor& v)> read;
};
using AttackRegistry = Registry<AttackPlugin>;

template <class AttackT, class Options>
bool register_attack(const char* name, const char* summary) {
  return AttackRegistry::instance().add(AttackPlugin{name, summary, [](OptionVisitor& v) {
    Options options;
    options.visit(v);
    return std::function<std::unique_ptr<Attack>(const ImageShape&)>(
        [options](const ImageShape& shape) -> std::unique_ptr<Attack> {
          if constexpr (std::is_constructible_v<AttackT, const Options&, const ImageShape&>)
            return std::make_unique<AttackT>(options, shape);
          else
            return std::make_unique<AttackT>();
        });
  }});
}

#define PBE_REGISTER_ATTACK(Type, Options, name, summary) \
  namespace {                                              \
  const bool registered_attack = ::pbe::register_attack<Type, Options>(name, summary); \
  }

}  // namespace pbe
