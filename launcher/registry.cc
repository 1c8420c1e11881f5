#include "launcher/registry.h"

#include <sstream>

#include "core/attacks/badnets.h"
#include "core/defenses/fine_tuning.h"
#include "core/errors.h"

namespace pbe {
namespace {

std::string str(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

TargetMode parse_mode(YamlMap& m) {
  auto mode = m.get<std::string>("mode", "all-to-one");
  if (mode == "all-to-one") return TargetMode::kAllToOne;
  if (mode == "all-to-all") return TargetMode::kAllToAll;
  m.fail(m.node("mode"), "mode", "expected all-to-one or all-to-all, got '" + mode + "'");
}

// Runs `make` and reports a ConfigError from an options struct's own checks at the entry's line.
template <class F>
auto checked_build(YamlMap& m, F make) {
  try {
    return make();
  } catch (const ConfigError& e) {
    m.fail(m.node("name"), "", e.what());
  }
}

}  // namespace

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

const std::vector<std::string>& attack_names() {
  static const std::vector<std::string> names{"none", "badnets"};
  return names;
}

const std::vector<std::string>& defense_names() {
  static const std::vector<std::string> names{"none", "ft"};
  return names;
}

AttackEntry parse_attack(YamlMap& m, const std::string& name, int num_classes) {
  AttackEntry e;
  if (name == "none") {
    e.attack = std::make_shared<NoAttack>();
  } else if (name == "badnets") {
    BadNetsOptions o;
    o.poison_rate = m.get("poison_rate", o.poison_rate);
    o.target = m.get("target", o.target);
    o.mode = parse_mode(m);
    o.pattern = m.get("pattern", o.pattern);
    o.size = m.get("size", o.size);
    o.position = m.get("position", o.position);
    o.margin = m.get("margin", o.margin);
    e.attack = checked_build(m, [&] { return std::make_shared<BadNets>(o, num_classes); });
    e.options = {{"poison_rate", str(o.poison_rate)},
                 {"target", std::to_string(o.target)},
                 {"mode", o.mode == TargetMode::kAllToOne ? "all-to-one" : "all-to-all"},
                 {"pattern", o.pattern},
                 {"size", std::to_string(o.size)},
                 {"position", o.position},
                 {"margin", std::to_string(o.margin)}};
  }
  return e;
}

DefenseEntry parse_defense(YamlMap& m, const std::string& name) {
  DefenseEntry e;
  if (name == "none") {
    e.defense = std::make_shared<NoDefense>();
  } else if (name == "ft") {
    FineTuningOptions o;
    o.clean_fraction = m.get("clean_fraction", o.clean_fraction);
    o.epochs = m.get("epochs", o.epochs);
    o.batch_size = m.get("batch_size", o.batch_size);
    o.lr = m.get("lr", o.lr);
    o.momentum = m.get("momentum", o.momentum);
    o.weight_decay = m.get("weight_decay", o.weight_decay);
    o.schedule = parse_schedule(m, o.schedule);
    e.defense = checked_build(m, [&] { return std::make_shared<FineTuning>(o); });
    e.options = {{"clean_fraction", str(o.clean_fraction)}, {"epochs", std::to_string(o.epochs)},
                 {"batch_size", std::to_string(o.batch_size)}, {"lr", str(o.lr)},
                 {"momentum", str(o.momentum)}, {"weight_decay", str(o.weight_decay)},
                 {"schedule", schedule_name(o.schedule)}};
  }
  return e;
}

}  // namespace pbe
