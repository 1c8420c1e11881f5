#pragma once
// The defenses a spec can name. Each defense registers itself at the end of its own .cc,
//   PBE_REGISTER_DEFENSE(Pbe, PbeOptions, "pbe", "PBE (Mu et al. 2023): ...")
// and its options struct declares its keys (core/options.h): the spec reader, the results file's
// record of options and `pbe_dist list` (docs/options.md) all follow from these two.
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "core/defenses/defense.h"
#include "core/registry.h"

namespace pbe {

struct DefensePlugin {
  std::string name;     // As specs name it.
  std::string summary;  // One line: what it is, after which paper.
  // Reads the options through `v` (the defaults where it says nothing) and returns what builds the
  // defense with them; that throws ConfigError "<name>: ..." for options the defense rejects.
  std::function<std::function<std::shared_ptr<const Defense>()>(OptionVisitor& v)> read;
};
using DefenseRegistry = Registry<DefensePlugin>;

template <class DefenseT, class Options>
bool register_defense(const char* name, const char* summary) {
  return DefenseRegistry::instance().add(DefensePlugin{name, summary, [](OptionVisitor& v) {
    Options options;
    options.visit(v);
    return std::function<std::shared_ptr<const Defense>()>([options]() -> std::shared_ptr<const Defense> {
      if constexpr (std::is_constructible_v<DefenseT, const Options&>)
        return std::make_shared<DefenseT>(options);
      else
        return std::make_shared<DefenseT>();
    });
  }});
}

#define PBE_REGISTER_DEFENSE(Type, Options, name, summary) \
  namespace {                                               \
  const bool registered_defense = ::pbe::register_defense<Type, Options>(name, summary); \
  }

}  // namespace pbe
