// The defenses a spec may name and how each one's YAML options are read.
#include "core/defenses/fine_tuning.h"
#include "launcher/registry.h"

namespace pbe {

LrSchedule parse_schedule(YamlMap& m, LrSchedule fallback) {
  if (!m.has("schedule")) return fallback;
  auto s = m.get<std::string>("schedule", "");
  if (s == "cosine") return LrSchedule::kCosine;
  if (s == "multistep") return LrSchedule::kMultiStep;
  if (s == "constant") return LrSchedule::kConstant;
  m.fail(m.node("schedule"), "schedule", "expected cosine, multistep or constant, got '" + s + "'");
}

const char* schedule_name(LrSchedule s) {
  switch (s) {
    case LrSchedule::kCosine: return "cosine";
    case LrSchedule::kMultiStep: return "multistep";
    case LrSchedule::kConstant: return "constant";
  }
  return "?";
}

const std::vector<std::string>& defense_names() {
  static const std::vector<std::string> names{"none", "ft"};
  return names;
}

DefenseEntry parse_defense(YamlMap& m, const std::string& name) {
  DefenseEntry e;
  if (name == "none") {
    e.defense = std::make_shared<NoDefense>();
    return e;
  }
  OptionReader r(m);
  FineTuningOptions o;  // "ft"
  o.clean_fraction = r("clean_fraction", o.clean_fraction);
  o.epochs = r("epochs", o.epochs);
  o.batch_size = r("batch_size", o.batch_size);
  o.lr = r("lr", o.lr);
  o.momentum = r("momentum", o.momentum);
  o.weight_decay = r("weight_decay", o.weight_decay);
  o.schedule = parse_schedule(m, o.schedule);
  r.record("schedule", schedule_name(o.schedule));
  e.defense = checked_build(m, [&] { return std::make_shared<FineTuning>(o); });
  e.options = r.recorded();
  return e;
}

}  // namespace pbe
