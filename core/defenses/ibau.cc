#include "core/defenses/ibau.h"

#include <torch/torch.h>

#include <cmath>

#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/training/batches.h"
#include "core/training/data_parallel.h"

namespace pbe {

std::vector<at::Tensor> implicit_hypergradient(const ShareLoss& inner, const ShareLoss& outer, const at::Tensor& w,
                                               const std::vector<at::Tensor>& params, double inner_lr,
                                               int iterations, ProcessGroup& group) {
  using torch::autograd::grad;
  auto w_ = w.detach().requires_grad_(true);
  std::vector<at::Tensor> both{w_};
  both.insert(both.end(), params.begin(), params.end());
  auto outer_grads = grad({outer(w_)}, both, {}, /*retain_graph=*/false, /*create_graph=*/false, /*allow_unused=*/true);
  const auto g_w = allreduce_sum({outer_grads[0]}, {w_}, group)[0];
  // This rank's share of d inner / d w, kept differentiable for the Jacobian-vector products.
  auto g_inner = grad({inner(w_)}, {w_}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  auto v = torch::zeros_like(w_);
  for (int k = 0; k < iterations; ++k) {
    auto hv = grad({g_inner}, {w_}, {v}, /*retain_graph=*/true, /*create_graph=*/false, /*allow_unused=*/true)[0];
    hv = allreduce_sum({hv}, {w_}, group)[0];
    auto next = v - inner_lr * hv + g_w;  // (d phi / d w)^T v + d outer / d w
    const bool converged = (next - v).norm().item<double>() < 1e-10;
    v = next;
    if (converged) break;
  }
  auto mixed = grad({g_inner}, params, {v}, /*retain_graph=*/false, /*create_graph=*/false, /*allow_unused=*/true);
  std::vector<at::Tensor> local;
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor g = outer_grads[i + 1].defined() ? outer_grads[i + 1] : torch::zeros_like(params[i]);
    if (mixed[i].defined()) g = g - inner_lr * mixed[i];  // (d phi / d theta)^T v
    local.push_back(g);
  }
  auto sums = allreduce_sum(local, params, group);
  for (auto& s : sums) s = s.clone();  // they become the parameters' gradients
  return sums;
}

Ibau::Ibau(const IbauOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1)) throw ConfigError("ibau: clean_fraction must be in (0, 1]");
  if (o.rounds < 1 || o.fixed_point_iterations < 1 || o.batch_size < 1)
    throw ConfigError("ibau: rounds, fixed_point_iterations and batch_size must be positive");
  if (!(o.inner_lr > 0 && o.perturbation_lr > 0 && o.lr > 0)) throw ConfigError("ibau: learning rates must be positive");
  if (!(o.regularization >= 0 && o.radius >= 0)) throw ConfigError("ibau: regularization and radius must be >= 0");
  if (!(o.patched_fraction >= 0 && o.patched_fraction <= 1)) throw ConfigError("ibau: patched_fraction must be in [0, 1]");
}

double Ibau::estimated_image_epochs(const WorkSize& size) const {
  // Per round: the perturbation pass, and per unlearning batch the outer pass, the inner gradient
  // (counted twice: it is differentiated again) and one pass per fixed-point iteration.
  const double n = static_cast<double>(size.clean);
  return options_.rounds * n * (1.0 + 3.0 + options_.fixed_point_iterations);
}

DefenseResult Ibau::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  namespace F = torch::nn::functional;
  const Dataset& clean = ctx.clean_extra;
  if (clean.size() == 0) throw ConfigError("ibau: the clean extra set is empty");
  ProcessGroup& group = ctx.group;
  broadcast_model(model, group);
  model.eval();  // as the release: batch norm on its running statistics throughout
  const auto shape = clean.shape();
  std::vector<at::Tensor> params;
  for (auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  torch::optim::Adam adam(params, torch::optim::AdamOptions(options_.lr));
  const auto sum_ce = F::CrossEntropyFuncOptions().reduction(torch::kSum);
  const double reg = options_.regularization;
  const int passes = 3 + options_.fixed_point_iterations;
  DefenseResult result;
  result.steps = {{"round", {}}, {"perturbation_norm", {}}, {"fooling_rate", {}}, {"loss", {}}};
  for (int round = 0; round < options_.rounds; ++round) {
    const std::string phase = "ibau round " + std::to_string(round + 1) + "/" + std::to_string(options_.rounds);
    int64_t images = 0;  // image passes in this round (progress counts per phase)
    // 1. The universal perturbation: one SGD pass from 0.
    const auto on = torch::TensorOptions().device(model.device());
    auto delta = torch::zeros({1, shape.channels, shape.height, shape.width}, on.requires_grad(true));
    auto stats = torch::zeros({2}, torch::kDouble);  // fooled, images (last pass)
    EpochBatches perturb(clean, options_.batch_size, ctx.augmentation, group, derive_seed(ctx.seed, "perturbation"), round,
                         on.device());
    for (int64_t b = 0; b < perturb.count(); ++b) {
      const LocalBatch batch = perturb.get(b);
      const double share = static_cast<double>(batch.hi - batch.lo) / static_cast<double>(batch.global);
      at::Tensor loss = share * reg * delta.pow(2).sum();
      if (!batch.empty()) {
        at::Tensor own;
        {
          torch::NoGradGuard no_grad;
          own = model.forward(batch.x).argmax(1);
        }
        auto logits = model.forward(batch.x + delta);
        loss = loss - F::cross_entropy(logits, own, sum_ce) / static_cast<double>(batch.global);
        stats[0] += logits.argmax(1).ne(own).sum().item<double>();
        stats[1] += static_cast<double>(batch.hi - batch.lo);
      }
      auto g = torch::autograd::grad({loss}, {delta})[0];
      group.allreduce(g);
      torch::NoGradGuard no_grad;
      delta.sub_(options_.perturbation_lr * g);
      images += batch.global;
      if (ctx.progress) ctx.progress({phase, 0, 2, b + 1, perturb.count(), images});
    }
    for (auto& p : params) p.mutable_grad() = at::Tensor();  // the perturbation pass leaves none
    group.allreduce(stats);
    at::Tensor pert = delta.detach();
    if (options_.radius > 0) pert = pert * std::min(1.0, options_.radius / std::max(1e-12, pert.norm().item<double>()));
    // 2. Unlearning: one Adam step per batch along the implicit hypergradient.
    double loss_sum = 0;
    EpochBatches unlearn(clean, options_.batch_size, ctx.augmentation, group, derive_seed(ctx.seed, "unlearn"), round,
                         on.device());
    for (int64_t b = 0; b < unlearn.count(); ++b) {
      const LocalBatch batch = unlearn.get(b);
      const double share = static_cast<double>(batch.hi - batch.lo) / static_cast<double>(batch.global);
      // The patched rows: a seeded patched_fraction of the global batch's positions.
      const auto chosen = seeded_sample(batch.global, static_cast<int64_t>(std::floor(options_.patched_fraction * batch.global)),
                                        mix_seed(derive_seed(ctx.seed, "patched"), round, b));
      auto patched = torch::zeros({std::max<int64_t>(0, batch.hi - batch.lo), 1, 1, 1});
      for (int64_t i = 0; i < chosen.numel(); ++i) {
        const int64_t pos = chosen[i].item<int64_t>();
        if (pos >= batch.lo && pos < batch.hi) patched[pos - batch.lo] = 1.0f;
      }
      patched = patched.to(on.device());
      auto inner = [&](const at::Tensor& w) {
        at::Tensor l = share * reg * w.pow(2).sum();
        if (batch.empty()) return l;
        return l - F::cross_entropy(model.forward(batch.x + w), batch.y, sum_ce) / static_cast<double>(batch.global);
      };
      double outer_value = 0;
      auto outer = [&](const at::Tensor& w) {
        at::Tensor l = 0 * w.sum();
        if (batch.empty()) return l;
        l = l + F::cross_entropy(model.forward(batch.x + patched * w), batch.y, sum_ce) / static_cast<double>(batch.global);
        outer_value = l.item<double>();
        return l;
      };
      auto grads = implicit_hypergradient(inner, outer, pert, params, options_.inner_lr,
                                          options_.fixed_point_iterations, group);
      for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = grads[i];
      adam.step();
      loss_sum += outer_value * static_cast<double>(batch.global);
      images += batch.global * passes;
      if (ctx.progress) ctx.progress({phase, 1, 2, b + 1, unlearn.count(), images});
    }
    auto loss = torch::tensor({loss_sum}, torch::kDouble);
    group.allreduce(loss);
    const std::vector<double> values{static_cast<double>(round), pert.norm().item<double>(),
                                     stats[0].item<double>() / std::max(1.0, stats[1].item<double>()),
                                     loss.item<double>() / static_cast<double>(clean.size())};
    for (size_t i = 0; i < values.size(); ++i) result.steps[i].second.push_back(values[i]);
    if (ctx.evaluate) {
      EpochRecord rec;
      rec.epoch = round;
      rec.eval = ctx.evaluate(model);
      result.curve.push_back(rec);
    }
  }
  for (auto& p : params) p.mutable_grad() = at::Tensor();
  return result;
}

PBE_REGISTER_DEFENSE(Ibau, IbauOptions, "ibau",
                     "I-BAU (Zeng et al. 2022): unlearning a universal adversarial perturbation through implicit hypergradients")

}  // namespace pbe
