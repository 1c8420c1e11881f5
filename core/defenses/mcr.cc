#include "core/defenses/mcr.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/training/batches.h"
#include "core/training/data_parallel.h"

namespace pbe {
namespace {

// The model's parameters set to the curve's point at t.
void set_point(std::vector<at::Tensor>& params, const std::vector<at::Tensor>& w0, const std::vector<at::Tensor>& bend,
               const std::vector<at::Tensor>& w1, double t) {
  torch::NoGradGuard no_grad;
  const auto [a, b, c] = bezier_weights(t);
  for (size_t i = 0; i < params.size(); ++i) params[i].copy_(a * w0[i] + b * bend[i] + c * w1[i]);
}

// Batch-norm running statistics re-estimated on `data`: each rank averages its batches'
// statistics over its shard (cumulative average), and the ranks' means and second moments are
// combined weighted by their image counts. Nothing happens for a model without batch norm.
void reestimate_batch_norm(ClassifierImpl& model, const Dataset& data, ProcessGroup& group) {
  std::vector<torch::nn::BatchNorm2dImpl*> norms;
  for (const auto& m : model.modules(/*include_self=*/false))
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) norms.push_back(bn);
  if (norms.empty()) return;
  torch::NoGradGuard no_grad;
  std::vector<c10::optional<double>> momenta;
  for (auto* bn : norms) momenta.push_back(bn->options.momentum());
  const bool was_training = model.is_training();
  auto restore = [&] {
    for (size_t i = 0; i < norms.size(); ++i) norms[i]->options.momentum(momenta[i]);
    model.train(was_training);
  };
  const auto [lo, hi] = shard_range(data.size(), group.rank(), group.size());
  try {
    for (auto* bn : norms) {
      bn->options.momentum(c10::nullopt);  // cumulative average
      bn->reset_running_stats();
    }
    model.train();
    for (int64_t b = lo; b < hi; b += 256)
      model.forward(to_float(data.images.slice(0, b, std::min(hi, b + 256)).to(model.device())));
  } catch (...) {
    restore();
    throw;
  }
  restore();
  const double n = static_cast<double>(hi - lo), total = static_cast<double>(data.size());
  for (auto* bn : norms) {
    auto mean = bn->running_mean, var = bn->running_var;
    auto moments = torch::cat({n * mean, n * (var + mean * mean)});  // this rank's share
    group.allreduce(moments);
    const int64_t c = mean.numel();
    auto global_mean = moments.narrow(0, 0, c) / total;
    mean.copy_(global_mean);
    var.copy_(moments.narrow(0, c, c) / total - global_mean * global_mean);
  }
}

}  // namespace

std::array<double, 3> bezier_weights(double t) { return {(1 - t) * (1 - t), 2 * t * (1 - t), t * t}; }

Mcr::Mcr(const McrOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1)) throw ConfigError("mcr: clean_fraction must be in (0, 1]");
  if (o.endpoint_epochs < 1 || o.curve_epochs < 0) throw ConfigError("mcr: endpoint_epochs must be positive, curve_epochs >= 0");
  if (!(o.t >= 0 && o.t <= 1)) throw ConfigError("mcr: t must be in [0, 1]");
  if (!(o.sweep_step >= 0 && o.sweep_step <= 1)) throw ConfigError("mcr: sweep_step must be in [0, 1]");
  o.sgd.check("mcr");
}

double Mcr::estimated_image_epochs(const WorkSize& size) const {
  const double n = static_cast<double>(size.clean);
  return n * (options_.endpoint_epochs + options_.curve_epochs);
}

DefenseResult Mcr::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  const Dataset& clean = ctx.clean_extra;
  if (clean.size() == 0) throw ConfigError("mcr: the clean extra set is empty");
  ProcessGroup& group = ctx.group;
  broadcast_model(model, group);
  // The t = 1 endpoint: FT's model (same recipe and seed).
  auto end = model.replicate();
  TrainOptions ft = options_.sgd.train_options(options_.endpoint_epochs, ctx.augmentation, ctx.seed, "mcr endpoint");
  train_classifier(*end, clean, ft, group, {}, ctx.progress);
  auto params = model.parameters();
  std::vector<at::Tensor> w0, w1, bend;
  for (size_t i = 0; i < params.size(); ++i) {
    w0.push_back(params[i].detach().clone());
    w1.push_back(end->parameters()[i].detach().clone());
    bend.push_back((0.5 * (w0.back() + w1.back())).requires_grad_(true));
  }
  // The bend: SGD on the loss at a random point of the curve per batch.
  TrainOptions c = options_.sgd.train_options(options_.curve_epochs, ctx.augmentation, derive_seed(ctx.seed, "curve"), "mcr curve");
  torch::optim::SGD optimizer(bend, torch::optim::SGDOptions(c.lr).momentum(c.momentum).weight_decay(c.weight_decay));
  DefenseResult result;
  int64_t images = 0;
  for (int epoch = 0; epoch < c.epochs; ++epoch) {
    const double lr = learning_rate(c, epoch);
    set_learning_rate(optimizer, lr);
    model.train();
    EpochBatches batches(clean, c.batch_size, c.augmentation, group, c.seed, epoch, model.device());
    auto stats = torch::zeros({3}, torch::kDouble);
    for (int64_t b = 0; b < batches.count(); ++b) {
      const LocalBatch batch = batches.get(b);
      torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(mix_seed(c.seed, epoch, b));
      const double t = torch::rand({1}, gen).item<double>();
      set_point(params, w0, bend, w1, t);
      for (auto& p : params) p.mutable_grad() = at::Tensor();
      if (!batch.empty()) {
        auto logits = model.forward(batch.x);
        auto loss = torch::nn::functional::cross_entropy(
            logits, batch.y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
        (loss / static_cast<double>(batch.global)).backward();
        stats[0] += loss.item<double>();
        stats[1] += logits.argmax(1).eq(batch.y).sum().item<double>();
        stats[2] += static_cast<double>(batch.hi - batch.lo);
      }
      allreduce_gradients(model, group);
      const double weight = bezier_weights(t)[1];  // d w(t) / d bend
      for (size_t i = 0; i < params.size(); ++i)
        bend[i].mutable_grad() = params[i].grad().defined() ? weight * params[i].grad() : torch::zeros_like(bend[i]);
      optimizer.step();
      images += batch.global;
      if (ctx.progress) ctx.progress({c.phase, epoch, c.epochs, b + 1, batches.count(), images});
    }
    EpochRecord rec = close_epoch(stats, model, c, epoch, lr, group, {});
    result.curve.push_back(rec);
  }
  for (auto& p : params) p.mutable_grad() = at::Tensor();
  std::vector<at::Tensor> bend_values;
  for (const auto& b : bend) bend_values.push_back(b.detach());
  auto repair_at = [&](double t) {
    set_point(params, w0, bend_values, w1, t);
    reestimate_batch_norm(model, clean, group);
    model.eval();
  };
  if (options_.sweep_step > 0 && ctx.evaluate) {
    result.steps = {{"t", {}}, {"acc", {}}, {"asr", {}}};
    const int points = static_cast<int>(std::floor(1.0 / options_.sweep_step + 1e-9));
    for (int j = 0; j <= points; ++j) {
      const double t = std::min(1.0, j * options_.sweep_step);
      repair_at(t);
      const EvalPoint e = ctx.evaluate(model);
      for (auto [i, v] : {std::pair{0, t}, std::pair{1, e.acc}, std::pair{2, e.asr}}) result.steps[i].second.push_back(v);
    }
  }
  repair_at(options_.t);
  return result;
}

PBE_REGISTER_DEFENSE(Mcr, McrOptions, "mcr",
                     "Mode Connectivity Repair (Zhao et al. 2020): a point on a curve from the infected to a fine-tuned model")

}  // namespace pbe
