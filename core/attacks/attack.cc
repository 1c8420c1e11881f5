#include "core/attacks/attack.h"

#include <torch/torch.h>

#include <cmath>

#include "core/attacks/registry.h"
#include "core/errors.h"
#include "core/random.h"

namespace pbe {

const char* target_mode_name(TargetMode mode) {
  return mode == TargetMode::kAllToOne ? "all-to-one" : "all-to-all";
}

Infection Attack::infect(ClassifierImpl& model, const AttackContext& ctx) {
  Infection out;
  out.poisoned = poison(ctx.clean_train, derive_seed(ctx.seed, "poison"));
  out.curve = train_classifier(model, out.poisoned.data, ctx.training, ctx.group, ctx.evaluate, ctx.progress);
  return out;
}

const at::Tensor& state_tensor(const NamedTensors& state, const std::string& name) {
  for (const auto& [n, t] : state)
    if (n == name) return t;
  throw std::runtime_error("attack state has no '" + name + "'");
}

Classifier train_clean_surrogate(const AttackContext& ctx, int epochs, const std::string& purpose) {
  torch::manual_seed(derive_seed(ctx.seed, purpose + "/init"));
  Classifier model = make_model(ctx.model);
  TrainOptions t = ctx.training;
  if (epochs > 0) t.epochs = epochs;
  if (!t.checkpoint_path.empty()) t.checkpoint_path += "." + purpose;  // not the victim's
  t.seed = derive_seed(ctx.seed, purpose + "/train");
  t.phase = purpose;
  train_classifier(*model, ctx.clean_train, t, ctx.group, {}, ctx.progress);
  return model;
}

PoisonedDataset NoAttack::poison(const Dataset& clean_train, uint64_t) const {
  return {clean_train, torch::zeros({clean_train.size()}, torch::kBool)};
}
at::Tensor NoAttack::asr_mask(const at::Tensor& true_labels) const {
  return torch::zeros_like(true_labels, torch::kBool);
}

PoisonLabelAttack::PoisonLabelAttack(const std::string& attack, const PoisonOptions& o,
                                     const ImageShape& shape, bool clean_label)
    : poison_options_(o), shape_(shape), clean_label_(clean_label) {
  const int num_classes = shape.num_classes;
  if (!(o.poison_rate > 0 && o.poison_rate <= 1))
    throw ConfigError(attack + ": poison_rate must be in (0, 1], got " + std::to_string(o.poison_rate));
  if (o.target < 0 || o.target >= num_classes)
    throw ConfigError(attack + ": target " + std::to_string(o.target) + " outside [0, " +
                      std::to_string(num_classes) + ")");
  if (clean_label && o.mode != TargetMode::kAllToOne)
    throw ConfigError(attack + ": a clean-label attack is all-to-one only (mode: all-to-one)");
}

at::Tensor PoisonLabelAttack::target_labels(const at::Tensor& y, int num_classes) const {
  if (poison_options_.mode == TargetMode::kAllToAll) return (y + 1).remainder(num_classes);
  return torch::full_like(y, poison_options_.target);
}

at::Tensor PoisonLabelAttack::asr_mask(const at::Tensor& y) const {
  if (poison_options_.mode == TargetMode::kAllToAll) return torch::ones_like(y, torch::kBool);
  return y.ne(poison_options_.target);
}

at::Tensor PoisonLabelAttack::choose_rows(const Dataset& clean, uint64_t seed) const {
  // Dirty-label: rows whose label would change, poison_rate of the whole set.
  // Clean-label: target-class rows, poison_rate of them.
  auto candidates = (clean_label_ ? clean.labels.eq(poison_options_.target) : asr_mask(clean.labels))
                        .nonzero()
                        .squeeze(1);
  const double base = clean_label_ ? candidates.numel() : clean.size();
  const auto count = std::min<int64_t>(candidates.numel(), std::llround(poison_options_.poison_rate * base));
  auto chosen = candidates.index_select(0, seeded_permutation(candidates.numel(), seed).narrow(0, 0, count));
  return std::get<0>(chosen.sort());
}

PoisonedDataset PoisonLabelAttack::poison(const Dataset& clean, uint64_t seed) const {
  auto rows = choose_rows(clean, seed);
  PoisonedDataset out{clean, torch::zeros({clean.size()}, torch::kBool)};
  out.data.images = clean.images.clone();
  out.data.labels = clean.labels.clone();
  out.poison_mask.index_fill_(0, rows, true);
  auto triggered = to_uint8(poison_images(to_float(clean.images.index_select(0, rows)), rows));
  out.data.images.index_copy_(0, rows, triggered);
  if (!clean_label_) {
    auto relabelled = target_labels(clean.labels.index_select(0, rows), clean.num_classes);
    out.data.labels.index_copy_(0, rows, relabelled);
  }
  return out;
}

PBE_REGISTER_ATTACK(NoAttack, NoOptions, "none", "no attack: the clean model row")

}  // namespace pbe
