// The attacks a spec may name and how each one's YAML options are read.
#include <algorithm>

#include "core/attacks/badnets.h"
#include "core/attacks/blend.h"
#include "core/attacks/input_aware.h"
#include "core/attacks/label_consistent.h"
#include "core/attacks/sig.h"
#include "core/attacks/trojannn.h"
#include "core/attacks/wanet.h"
#include "launcher/registry.h"

namespace pbe {
namespace {

void read_poison(OptionReader& r, PoisonOptions& o) {
  o.poison_rate = r("poison_rate", o.poison_rate);
  o.target = r("target", o.target);
  auto mode = r.map().get<std::string>("mode", target_mode_name(o.mode));
  if (mode == "all-to-one") {
    o.mode = TargetMode::kAllToOne;
  } else if (mode == "all-to-all") {
    o.mode = TargetMode::kAllToAll;
  } else {
    r.map().fail(r.map().node("mode"), "mode", "expected all-to-one or all-to-all, got '" + mode + "'");
  }
  r.record("mode", mode);
}

void read_placement(OptionReader& r, PatchPlacement& p) {
  p.position = r("position", p.position);
  p.margin = r("margin", p.margin);
}

// The options struct of each attack, read from its entry.
BadNetsOptions read(OptionReader& r, BadNetsOptions o) {
  read_poison(r, o);
  o.pattern = r("pattern", o.pattern);
  o.size = r("size", o.size);
  read_placement(r, o.placement);
  o.amplitude = r("amplitude", o.amplitude);
  return o;
}

BlendOptions read(OptionReader& r, BlendOptions o) {
  read_poison(r, o);
  o.alpha = r("alpha", o.alpha);
  o.image = r("image", o.image);
  o.trigger_seed = r("trigger_seed", o.trigger_seed);
  return o;
}

SigOptions read(OptionReader& r, SigOptions o) {
  read_poison(r, o);
  o.delta = r("delta", o.delta);
  o.test_delta = r("test_delta", o.test_delta);
  o.frequency = r("frequency", o.frequency);
  return o;
}

WaNetOptions read(OptionReader& r, WaNetOptions o) {
  read_poison(r, o);
  o.k = r("k", o.k);
  o.s = r("s", o.s);
  o.grid_rescale = r("grid_rescale", o.grid_rescale);
  o.cross_ratio = r("cross_ratio", o.cross_ratio);
  o.trigger_seed = r("trigger_seed", o.trigger_seed);
  return o;
}

InputAwareOptions read(OptionReader& r, InputAwareOptions o) {
  read_poison(r, o);
  o.cross_rate = r("cross_rate", o.cross_rate);
  o.lambda_div = r("lambda_div", o.lambda_div);
  o.lambda_norm = r("lambda_norm", o.lambda_norm);
  o.mask_density = r("mask_density", o.mask_density);
  o.mask_epochs = r("mask_epochs", o.mask_epochs);
  o.generator_lr = r("generator_lr", o.generator_lr);
  o.generator_width = r("generator_width", o.generator_width);
  o.train_epochs = r("train_epochs", o.train_epochs);
  return o;
}

LabelConsistentOptions read(OptionReader& r, LabelConsistentOptions o) {
  read_poison(r, o);
  read_pgd(r, o.pgd);
  o.size = r("size", o.size);
  o.amplitude = r("amplitude", o.amplitude);
  o.surrogate_epochs = r("surrogate_epochs", o.surrogate_epochs);
  return o;
}

TrojanNNOptions read(OptionReader& r, TrojanNNOptions o) {
  read_poison(r, o);
  o.size = r("size", o.size);
  read_placement(r, o.placement);
  o.neurons = r("neurons", o.neurons);
  o.target_value = r("target_value", o.target_value);
  o.steps = r("steps", o.steps);
  o.lr = r("lr", o.lr);
  o.surrogate_epochs = r("surrogate_epochs", o.surrogate_epochs);
  return o;
}

// Reads Options, builds one instance to validate them, and returns the per-cell factory.
template <class AttackT, class Options>
AttackEntry entry_for(YamlMap& m, const ImageShape& shape) {
  OptionReader r(m);
  const Options o = read(r, Options{});
  AttackEntry e;
  e.prototype = checked_build(m, [&] { return std::make_shared<AttackT>(o, shape); });
  e.make = [o, shape]() -> std::unique_ptr<Attack> { return std::make_unique<AttackT>(o, shape); };
  e.options = r.recorded();
  return e;
}

}  // namespace

void read_pgd(OptionReader& parent, PgdOptions& o) {
  YamlMap m = parent.map().map("pgd");
  OptionReader r(m);
  auto norm = m.get<std::string>("norm", o.norm == PgdNorm::kLinf ? "linf" : "l2");
  if (norm == "linf") {
    o.norm = PgdNorm::kLinf;
  } else if (norm == "l2") {
    o.norm = PgdNorm::kL2;
  } else {
    m.fail(m.node("norm"), "norm", "expected linf or l2, got '" + norm + "'");
  }
  r.record("norm", norm);
  o.eps = r("eps", o.eps);
  o.step_size = r("step_size", o.step_size);
  o.steps = r("steps", o.steps);
  o.random_start = r("random_start", o.random_start);
  o.targeted = r("targeted", o.targeted);
  o.clamp = r("clamp", o.clamp);
  m.finish();
  for (const auto& [key, value] : r.recorded()) parent.record("pgd." + key, value);
}

const std::vector<std::string>& attack_names() {
  static const std::vector<std::string> names{"none", "badnets", "blend", "sig", "wanet",
                                              "input-aware", "lc", "trojannn"};
  return names;
}

AttackEntry parse_attack(YamlMap& m, const std::string& name, const ImageShape& shape) {
  if (name == "badnets") return entry_for<BadNets, BadNetsOptions>(m, shape);
  if (name == "blend") return entry_for<Blend, BlendOptions>(m, shape);
  if (name == "sig") return entry_for<Sig, SigOptions>(m, shape);
  if (name == "wanet") return entry_for<WaNet, WaNetOptions>(m, shape);
  if (name == "input-aware") return entry_for<InputAware, InputAwareOptions>(m, shape);
  if (name == "lc") return entry_for<LabelConsistent, LabelConsistentOptions>(m, shape);
  if (name == "trojannn") return entry_for<TrojanNN, TrojanNNOptions>(m, shape);
  AttackEntry e;  // "none"
  e.prototype = std::make_shared<NoAttack>();
  e.make = [] { return std::make_unique<NoAttack>(); };
  return e;
}

}  // namespace pbe
