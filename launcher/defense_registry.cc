// The defenses a spec may name and how each one's YAML options are read.
#include "core/defenses/aft.h"
#include "core/defenses/anp.h"
#include "core/defenses/fine_pruning.h"
#include "core/defenses/fine_tuning.h"
#include "core/defenses/ibau.h"
#include "core/defenses/mcr.h"
#include "core/defenses/nad.h"
#include "core/defenses/neural_cleanse.h"
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

Augmentation read_augmentation_keys(YamlMap& a, Augmentation base, OptionReader* record) {
  auto get = [&](const std::string& key, auto fallback) {
    auto value = a.get(key, fallback);
    if (record) record->record("augmentation." + key, fmt::format("{}", value));
    return value;
  };
  base.crop_padding = get("crop_padding", base.crop_padding);
  base.crop_probability = get("crop_probability", base.crop_probability);
  base.rotation_degrees = get("rotation_degrees", base.rotation_degrees);
  base.rotation_probability = get("rotation_probability", base.rotation_probability);
  base.horizontal_flip = get("horizontal_flip", base.horizontal_flip);
  a.finish();
  try {
    check_augmentation(base, "augmentation");
  } catch (const ConfigError& e) {
    a.fail(a.yaml(), "", e.what());
  }
  return base;
}

void read_augmentation(OptionReader& r, DefenseAugmentation& augmentation) {
  using Kind = DefenseAugmentation::Kind;
  YamlMap& m = r.map();
  if (m.has("augmentation") && !m.node("augmentation").IsScalar()) {
    YamlMap a = m.map("augmentation");
    augmentation.kind = Kind::kCustom;
    augmentation.custom = read_augmentation_keys(a, Augmentation{}, &r);
  } else if (m.has("augmentation")) {
    const auto name = m.get<std::string>("augmentation", "");
    if (name == "auto") augmentation.kind = Kind::kAuto;
    else if (name == "release") augmentation.kind = Kind::kRelease;
    else if (name == "dataset") augmentation.kind = Kind::kDataset;
    else
      m.fail(m.node("augmentation"), "augmentation",
             "expected auto, release, dataset or a mapping, got '" + name + "'");
  }
  r.record("augmentation", augmentation.name());
}

const std::vector<std::string>& defense_names() {
  static const std::vector<std::string> names{"none", "ft", "fp", "nad", "anp", "ibau", "nc", "mcr", "aft", "pbe"};
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
    read_augmentation(r, o.augmentation);
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
    read_augmentation(r, o.augmentation);
    read_sgd(r, o.sgd);
    e.defense = checked_build(m, [&] { return std::make_shared<Pbe>(o); });
    e.options = r.recorded();
    return e;
  }
  if (name == "fp") {
    FinePruningOptions o;
    o.clean_fraction = r("clean_fraction", o.clean_fraction);
    o.max_acc_drop = r("max_acc_drop", o.max_acc_drop);
    o.max_prune_ratio = r("max_prune_ratio", o.max_prune_ratio);
    o.epochs = r("epochs", o.epochs);
    read_sgd(r, o.sgd);
    e.defense = checked_build(m, [&] { return std::make_shared<FinePruning>(o); });
    e.options = r.recorded();
    return e;
  }
  if (name == "nad") {
    NadOptions o;
    o.clean_fraction = r("clean_fraction", o.clean_fraction);
    o.teacher_epochs = r("teacher_epochs", o.teacher_epochs);
    o.epochs = r("epochs", o.epochs);
    o.betas = r("betas", o.betas);
    o.power = r("power", o.power);
    read_sgd(r, o.sgd);
    e.defense = checked_build(m, [&] { return std::make_shared<Nad>(o); });
    e.options = r.recorded();
    return e;
  }
  if (name == "anp") {
    AnpOptions o;
    o.clean_fraction = r("clean_fraction", o.clean_fraction);
    o.eps = r("eps", o.eps);
    o.perturbation_steps = r("perturbation_steps", o.perturbation_steps);
    o.alpha = r("alpha", o.alpha);
    o.mask_lr = r("mask_lr", o.mask_lr);
    o.iterations = r("iterations", o.iterations);
    o.batch_size = r("batch_size", o.batch_size);
    o.prune_by = r("prune_by", o.prune_by);
    o.threshold = r("threshold", o.threshold);
    o.count = r("count", o.count);
    o.max_prune_ratio = r("max_prune_ratio", o.max_prune_ratio);
    o.sweep_step = r("sweep_step", o.sweep_step);
    e.defense = checked_build(m, [&] { return std::make_shared<Anp>(o); });
    e.options = r.recorded();
    return e;
  }
  if (name == "ibau") {
    IbauOptions o;
    o.clean_fraction = r("clean_fraction", o.clean_fraction);
    o.rounds = r("rounds", o.rounds);
    o.fixed_point_iterations = r("fixed_point_iterations", o.fixed_point_iterations);
    o.inner_lr = r("inner_lr", o.inner_lr);
    o.perturbation_lr = r("perturbation_lr", o.perturbation_lr);
    o.regularization = r("regularization", o.regularization);
    o.radius = r("radius", o.radius);
    o.patched_fraction = r("patched_fraction", o.patched_fraction);
    o.lr = r("lr", o.lr);
    o.batch_size = r("batch_size", o.batch_size);
    e.defense = checked_build(m, [&] { return std::make_shared<Ibau>(o); });
    e.options = r.recorded();
    return e;
  }
  if (name == "mcr") {
    McrOptions o;
    o.clean_fraction = r("clean_fraction", o.clean_fraction);
    o.endpoint_epochs = r("endpoint_epochs", o.endpoint_epochs);
    o.curve_epochs = r("curve_epochs", o.curve_epochs);
    o.t = r("t", o.t);
    o.sweep_step = r("sweep_step", o.sweep_step);
    read_sgd(r, o.sgd);
    e.defense = checked_build(m, [&] { return std::make_shared<Mcr>(o); });
    e.options = r.recorded();
    return e;
  }
  if (name == "nc") {
    NeuralCleanseOptions o;
    o.clean_fraction = r("clean_fraction", o.clean_fraction);
    o.epochs = r("epochs", o.epochs);
    o.batch_size = r("trigger_batch_size", o.batch_size);
    o.lr = r("trigger_lr", o.lr);
    o.init_cost = r("init_cost", o.init_cost);
    o.attack_success_threshold = r("attack_success_threshold", o.attack_success_threshold);
    o.patience = r("patience", o.patience);
    o.cost_multiplier = r("cost_multiplier", o.cost_multiplier);
    o.early_stop_patience = r("early_stop_patience", o.early_stop_patience);
    o.anomaly_threshold = r("anomaly_threshold", o.anomaly_threshold);
    o.unlearn_fraction = r("unlearn_fraction", o.unlearn_fraction);
    o.unlearn_epochs = r("unlearn_epochs", o.unlearn_epochs);
    read_sgd(r, o.sgd);
    e.defense = checked_build(m, [&] { return std::make_shared<NeuralCleanse>(o); });
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
