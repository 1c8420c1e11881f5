#include "core/defenses/fine_pruning.h"

#include <torch/torch.h>

#include <cmath>

#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/metrics/evaluation.h"
#include "core/training/data_parallel.h"

namespace pbe {

FinePruning::FinePruning(const FinePruningOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1)) throw ConfigError("fp: clean_fraction must be in (0, 1]");
  if (!(o.max_acc_drop >= 0 && o.max_acc_drop <= 1)) throw ConfigError("fp: max_acc_drop must be in [0, 1]");
  if (!(o.max_prune_ratio >= 0 && o.max_prune_ratio < 1))
    throw ConfigError("fp: max_prune_ratio must be in [0, 1)");
  if (o.epochs < 0) throw ConfigError("fp: epochs must be >= 0");
  o.sgd.check("fp");
}

double FinePruning::estimated_image_epochs(const WorkSize& size) const {
  return options_.epochs * static_cast<double>(size.clean);
}

at::Tensor mean_channel_activation(ClassifierImpl& model, const Dataset& data, ProcessGroup& group) {
  torch::NoGradGuard no_grad;
  FrozenModel frozen(model);
  const auto [lo, hi] = shard_range(data.size(), group.rank(), group.size());
  at::Tensor sum;  // [C] over this rank's images and positions
  int64_t positions = 0;
  for (int64_t b = lo; b < hi; b += 256) {
    auto maps = model.last_conv_maps(to_float(data.images.slice(0, b, std::min(hi, b + 256)).to(model.device())));
    auto part = maps.sum({0, 2, 3}).to(torch::kDouble);
    sum = sum.defined() ? sum + part : part;
    positions += maps.size(0) * maps.size(2) * maps.size(3);
  }
  const int64_t channels = model.last_conv_mask().numel();
  auto totals = torch::zeros({channels + 1}, torch::kDouble);
  if (sum.defined()) totals.narrow(0, 0, channels).copy_(sum);
  totals[channels] = static_cast<double>(positions);
  group.allreduce(totals);
  return (totals.narrow(0, 0, channels) / totals[channels]).to(torch::kFloat);
}

DefenseResult FinePruning::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  const Dataset& clean = ctx.clean_extra;
  if (clean.size() == 0) throw ConfigError("fp: the clean extra set is empty");
  at::Tensor mask = model.last_conv_mask();
  if (!mask.defined()) throw ConfigError("fp: the model exposes no last convolutional layer to prune");
  auto accuracy = [&] { return clean_accuracy(model, clean, ctx.group); };
  // Least active first; ties to the lower channel, so every rank prunes the same channels.
  const auto activation = mean_channel_activation(model, clean, ctx.group);
  const auto order = std::get<1>(activation.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  const auto limit = static_cast<int64_t>(std::floor(options_.max_prune_ratio * static_cast<double>(mask.numel())));
  const double base = accuracy();
  DefenseResult result;
  result.steps = {{"pruned", {0.0}}, {"acc", {base}}};
  for (int64_t pruned = 0; pruned < limit; ++pruned) {
    torch::NoGradGuard no_grad;
    const int64_t channel = order[pruned].item<int64_t>();
    mask[channel] = 0.0f;
    const double acc = accuracy();
    result.steps[0].second.push_back(static_cast<double>(pruned + 1));
    result.steps[1].second.push_back(acc);
    if (acc < (1 - options_.max_acc_drop) * base) {
      mask[channel] = 1.0f;  // one too many: keep the last model within the bound
      break;
    }
  }
  if (options_.epochs > 0) {
    TrainOptions t = options_.sgd.train_options(options_.epochs, ctx.augmentation, ctx.seed, "fp");
    result.curve = train_classifier(model, clean, t, ctx.group, ctx.evaluate, ctx.progress);
  }
  return result;
}

PBE_REGISTER_DEFENSE(FinePruning, FinePruningOptions, "fp",
                     "Fine-Pruning (Liu et al. 2018): prune the last conv layer's dormant channels, then fine-tune")

}  // namespace pbe
