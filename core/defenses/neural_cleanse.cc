#include "core/defenses/neural_cleanse.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "core/attacks/patch.h"
#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/training/data_parallel.h"

namespace pbe {
namespace {

double median_of(const at::Tensor& v) {
  auto s = std::get<0>(v.to(torch::kDouble).sort());
  const int64_t n = s.numel();
  return n % 2 ? s[n / 2].item<double>() : 0.5 * (s[n / 2 - 1].item<double>() + s[n / 2].item<double>());
}

// Inverse of 0.5 + 0.5 tanh(z) on values in (0, 1), as the reference parametrises mask and pattern.
at::Tensor to_tanh_space(const at::Tensor& v) { return torch::atanh((v - 0.5) * (2 - 1e-7)); }
at::Tensor from_tanh_space(const at::Tensor& z) { return torch::tanh(z) / (2 - 1e-7) + 0.5; }

}  // namespace

at::Tensor anomaly_indices(const at::Tensor& values) {
  const double m = median_of(values);
  auto deviation = (values.to(torch::kDouble) - m).abs();
  const double mad = 1.4826 * median_of(deviation);
  return (deviation / std::max(mad, 1e-12)).to(torch::kFloat);
}

NeuralCleanse::NeuralCleanse(const NeuralCleanseOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1)) throw ConfigError("nc: clean_fraction must be in (0, 1]");
  if (o.epochs < 1 || o.batch_size < 1 || !(o.lr > 0)) throw ConfigError("nc: epochs, batch_size and lr must be positive");
  if (!(o.init_cost > 0)) throw ConfigError("nc: init_cost must be positive");
  if (!(o.attack_success_threshold > 0 && o.attack_success_threshold <= 1))
    throw ConfigError("nc: attack_success_threshold must be in (0, 1]");
  if (o.patience < 1 || !(o.cost_multiplier > 1)) throw ConfigError("nc: patience must be positive, cost_multiplier > 1");
  if (o.early_stop_patience < 0) throw ConfigError("nc: early_stop_patience must be >= 0");
  if (!(o.anomaly_threshold > 0)) throw ConfigError("nc: anomaly_threshold must be positive");
  if (!(o.unlearn_fraction > 0 && o.unlearn_fraction <= 1)) throw ConfigError("nc: unlearn_fraction must be in (0, 1]");
  if (o.unlearn_epochs < 0) throw ConfigError("nc: unlearn_epochs must be >= 0");
  o.sgd.check("nc");
}

double NeuralCleanse::estimated_image_epochs(const WorkSize& size) const {
  // Upper bound: every class runs all its epochs (early stopping ends sooner).
  const double n = static_cast<double>(size.clean);
  return n * (static_cast<double>(size.classes) * options_.epochs + options_.unlearn_epochs);
}

ReversedTrigger reverse_trigger(ClassifierImpl& model, const Dataset& clean, int64_t target,
                                const NeuralCleanseOptions& o, uint64_t seed,
                                const std::function<void(int64_t)>& on_epoch) {
  FrozenModel frozen(model);
  const auto shape = clean.shape();
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const torch::Device device = model.device();  // the trigger is optimised there, drawn on the CPU
  auto mask_z = to_tanh_space(torch::rand({shape.height, shape.width}, gen)).to(device).requires_grad_(true);
  auto pattern_z =
      to_tanh_space(torch::rand({shape.channels, shape.height, shape.width}, gen)).to(device).requires_grad_(true);
  torch::optim::Adam adam({mask_z, pattern_z}, torch::optim::AdamOptions(o.lr).betas({0.5, 0.9}));
  const auto labels = torch::full({o.batch_size}, target, torch::TensorOptions(torch::kLong).device(device));
  double cost = 0;  // the reference starts at 0 and sets init_cost once the trigger works
  int cost_set = 0, up = 0, down = 0, stale = 0;
  bool raised = false, lowered = false;
  double best_norm = std::numeric_limits<double>::infinity(), stop_best = best_norm;
  ReversedTrigger best;
  int64_t images = 0;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    const auto order = seeded_permutation(clean.size(), mix_seed(seed, epoch));
    double hits = 0, norm_sum = 0;
    int64_t batches = 0;
    for (int64_t b = 0; b < clean.size(); b += o.batch_size) {
      const auto rows = order.slice(0, b, std::min(clean.size(), b + o.batch_size));
      auto x = to_float(clean.images.index_select(0, rows).to(device));
      auto mask = from_tanh_space(mask_z), pattern = from_tanh_space(pattern_z);
      auto logits = model.forward(stamp(x, pattern, mask));
      auto y = labels.narrow(0, 0, x.size(0));
      auto l1 = mask.abs().sum();
      auto loss = torch::nn::functional::cross_entropy(logits, y) + cost * l1;
      adam.zero_grad();
      loss.backward();
      adam.step();
      hits += logits.argmax(1).eq(y).sum().item<double>();
      norm_sum += l1.item<double>();
      ++batches;
      images += x.size(0);
    }
    const double success = hits / static_cast<double>(clean.size()), norm = norm_sum / static_cast<double>(batches);
    best.epochs = epoch + 1;
    if (success >= o.attack_success_threshold && norm < best_norm) {
      torch::NoGradGuard no_grad;
      best_norm = norm;
      best.mask = from_tanh_space(mask_z).detach().clone();
      best.pattern = from_tanh_space(pattern_z).detach().clone();
      best.attack_success = success;
    }
    if (on_epoch) on_epoch(images);
    // Early stopping: no smaller working mask for early_stop_patience epochs, once the cost has
    // been moved both ways.
    if (o.early_stop_patience > 0) {
      if (std::isfinite(best_norm)) stale = best_norm >= stop_best ? stale + 1 : 0;
      stop_best = std::min(stop_best, best_norm);
      if (raised && lowered && stale >= o.early_stop_patience) break;
    }
    // The cost schedule.
    if (cost == 0 && success >= o.attack_success_threshold) {
      if (++cost_set >= o.patience) {
        cost = o.init_cost;
        up = down = 0;
        raised = lowered = false;
      }
    } else {
      cost_set = 0;
    }
    if (success >= o.attack_success_threshold) {
      ++up;
      down = 0;
    } else {
      up = 0;
      ++down;
    }
    if (up >= o.patience) {
      up = 0;
      cost *= o.cost_multiplier;
      raised = true;
    } else if (down >= o.patience) {
      down = 0;
      cost /= std::pow(o.cost_multiplier, 1.5);
      lowered = true;
    }
  }
  if (!best.mask.defined()) {  // never reached the threshold: the last trigger, as the reference keeps it
    torch::NoGradGuard no_grad;
    best.mask = from_tanh_space(mask_z).detach().clone();
    best.pattern = from_tanh_space(pattern_z).detach().clone();
  }
  best.norm = best.mask.abs().sum().item<double>();
  if (!best.attack_success) {
    torch::NoGradGuard no_grad;
    auto x = to_float(clean.images.narrow(0, 0, std::min<int64_t>(clean.size(), 512)).to(device));
    best.attack_success = model.forward(stamp(x, best.pattern, best.mask)).argmax(1).eq(target).to(torch::kDouble).mean().item<double>();
  }
  best.mask = best.mask.cpu();  // stamped on data, which lives on the CPU
  best.pattern = best.pattern.cpu();
  return best;
}

DefenseResult NeuralCleanse::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  const Dataset& clean = ctx.clean_extra;
  if (clean.size() == 0) throw ConfigError("nc: the clean extra set is empty");
  ProcessGroup& group = ctx.group;
  broadcast_model(model, group);  // each rank reverses its classes on the same model
  const auto shape = clean.shape();
  const int64_t classes = shape.num_classes, hw = shape.height * shape.width;
  const int64_t chw = shape.channels * hw;
  // Row k: class k's mask, pattern, norm, attack success and epochs, filled by the rank that owns k.
  auto found = torch::zeros({classes, hw + chw + 3}, torch::kFloat);
  for (int64_t k = group.rank(); k < classes; k += group.size()) {
    // Progress from this rank's classes; the others run beside it (counted as the same work).
    int epoch = 0;
    auto on_epoch = [&](int64_t images) {
      if (ctx.progress)
        ctx.progress({"nc trigger " + std::to_string(k + 1) + "/" + std::to_string(classes), epoch, options_.epochs,
                      1, 1, images * group.size()});
      ++epoch;
    };
    const ReversedTrigger t = reverse_trigger(model, clean, k, options_, mix_seed(ctx.seed, k), on_epoch);
    auto row = found[k];
    row.narrow(0, 0, hw).copy_(t.mask.flatten());
    row.narrow(0, hw, chw).copy_(t.pattern.flatten());
    row[hw + chw] = t.norm;
    row[hw + chw + 1] = t.attack_success;
    row[hw + chw + 2] = t.epochs;
  }
  group.allreduce(found);
  const auto norms = found.select(1, hw + chw).clone();
  const auto index = anomaly_indices(norms);
  const double mid = median_of(norms);
  std::vector<int64_t> flagged;
  DefenseResult result;
  result.steps = {{"class", {}}, {"norm", {}}, {"anomaly_index", {}}, {"flagged", {}}, {"attack_success", {}}, {"epochs", {}}};
  for (int64_t k = 0; k < classes; ++k) {
    const double norm = norms[k].item<double>(), a = index[k].item<double>();
    const bool flag = norm < mid && a > options_.anomaly_threshold;
    if (flag) flagged.push_back(k);
    const std::vector<double> values{static_cast<double>(k), norm, a, flag ? 1.0 : 0.0,
                                     found[k][hw + chw + 1].item<double>(), found[k][hw + chw + 2].item<double>()};
    for (size_t i = 0; i < values.size(); ++i) result.steps[i].second.push_back(values[i]);
  }
  if (flagged.empty() || options_.unlearn_epochs == 0) return result;
  // Unlearning: stamp a seeded unlearn_fraction of the clean rows with the flagged triggers in turn.
  Dataset unlearn = clean.subset(torch::arange(clean.size()));
  const auto rows = seeded_sample(clean.size(), std::llround(options_.unlearn_fraction * clean.size()),
                                  derive_seed(ctx.seed, "unlearn"));
  for (int64_t i = 0; i < rows.numel(); ++i) {
    const int64_t k = flagged[static_cast<size_t>(i) % flagged.size()], r = rows[i].item<int64_t>();
    auto mask = found[k].narrow(0, 0, hw).view({shape.height, shape.width});
    auto pattern = found[k].narrow(0, hw, chw).view({shape.channels, shape.height, shape.width});
    unlearn.images[r].copy_(to_uint8(stamp(to_float(unlearn.images.narrow(0, r, 1)), pattern, mask))[0]);
  }
  TrainOptions t = options_.sgd.train_options(options_.unlearn_epochs, ctx.augmentation, ctx.seed, "nc unlearn");
  result.curve = train_classifier(model, unlearn, t, group, ctx.evaluate, ctx.progress);
  return result;
}

PBE_REGISTER_DEFENSE(NeuralCleanse, NeuralCleanseOptions, "nc",
                     "Neural Cleanse (Wang et al. 2019): reverse each class's trigger, unlearn the flagged classes' triggers")

}  // namespace pbe
