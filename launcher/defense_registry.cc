// The defenses a spec may name and how each one's YAML options are read.
#include "core/defenses/aft.h"
#include "core/defenses/fine_tuning.h"
#include "core/defenses/pbe.h"
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

namespace {

// batch_size, lr, momentum, weight_decay, schedule of a fine-tuning defense.
void read_sgd(OptionReader& r, SgdRecipe& o) {
  o.batch_size = r("batch_size", o.batch_size);
  o.lr = r("lr", o.lr);
  o.momentum = r("momentum", o.momentum);
  o.weight_decay = r("weight_decay", o.weight_decay);
  o.schedule = parse_schedule(r.map(), o.schedule);
  r.record("schedule", schedule_name(o.schedule));
}

}  // namespace

const std::vector<std::string>& defense_names() {
  static const std::vector<std::string> names{"none", "ft", "aft", "pbe"};
  return names;
}

DefenseEntry parse_defense(YamlMap& m, const std::string& name) {
  DefenseEntry e;
  if (name == "none") {
    e.defense = std::make_shared<NoDefense>();
    return e;
  }
  OptionReader r(m);
  if (name == "aft") {
    AftOptions o;
    o.clean_fraction = r("clean_fraction", o.clean_fraction);
    o.epochs = r("epochs", o.epochs);
    o.adversarial_epochs = r("adversarial_epochs", o.adversarial_epochs);
    read_pgd(r, o.pgd);
    read_sgd(r, o.sgd);
    e.defense = checked_build(m, [&] { return std::make_shared<Aft>(o); });
    e.options = r.recorded();
    return e;
  }
  if (name == "pbe") {
    PbeOptions o;
    o.initial_fraction = r("initial_fraction", o.initial_fraction);
    o.steps = r("steps", o.steps);
    o.epochs_per_step = r("epochs_per_step", o.epochs_per_step);
    o.adversarial_batches = r("adversarial_batches", o.adversarial_batches);
    o.fractions = r("fractions", o.fractions);
    read_pgd(r, o.pgd);
    read_sgd(r, o.sgd);
    e.defense = checked_build(m, [&] { return std::make_shared<Pbe>(o); });
    e.options = r.recorded();
    return e;
  }
  FineTuningOptions o;  // "ft"
  o.clean_fraction = r("clean_fraction", o.clean_fraction);
  o.epochs = r("epochs", o.epochs);
  read_sgd(r, o.sgd);
  e.defense = checked_build(m, [&] { return std::make_shared<FineTuning>(o); });
  e.options = r.recorded();
  return e;
}

}  // namespace pbe
