#include "core/adversarial/pgd.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/errors.h"
#include "core/random.h"
#include "core/training/data_parallel.h"

namespace pbe {
namespace {

// Per-sample L2 norm of [N, ...], shaped [N, 1, 1, 1] for broadcasting.
at::Tensor l2_norm(const at::Tensor& t) {
  return t.flatten(1).norm(2, 1).clamp_min(1e-12).view({-1, 1, 1, 1});
}

at::Tensor project(const at::Tensor& delta, const PgdOptions& o) {
  if (o.norm == PgdNorm::kLinf) return delta.clamp(-o.eps, o.eps);
  return delta * (o.eps / l2_norm(delta)).clamp_max(1.0);
}

// Drawn on the CPU (the same numbers on every device), returned on x's device.
at::Tensor random_start(const at::Tensor& x, const PgdOptions& o, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  const auto cpu = x.options().device(torch::kCPU);
  if (o.norm == PgdNorm::kLinf) return ((at::rand(x.sizes(), gen, cpu) * 2 - 1) * o.eps).to(x.device());
  auto direction = at::randn(x.sizes(), gen, cpu);
  auto radius = at::rand({x.size(0), 1, 1, 1}, gen, cpu) * o.eps;
  return (direction / l2_norm(direction) * radius).to(x.device());
}

// PGD from the initial perturbation `delta`.
at::Tensor run_pgd(ClassifierImpl& model, const at::Tensor& x, const at::Tensor& y,
                   const PgdOptions& o, at::Tensor delta) {
  FrozenModel frozen(model);  // only the input needs a gradient
  if (o.clamp) delta = (x + delta).clamp(0, 1) - x;
  for (int step = 0; step < o.steps; ++step) {
    delta = delta.detach().requires_grad_(true);
    auto loss = torch::nn::functional::cross_entropy(
        model.forward(x + delta), y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    auto grad = torch::autograd::grad({loss}, {delta})[0];
    if (o.targeted) grad = -grad;
    torch::NoGradGuard no_grad;
    auto step_dir = o.norm == PgdNorm::kLinf ? grad.sign() : grad / l2_norm(grad);
    delta = project(delta + o.step_size * step_dir, o);
    if (o.clamp) delta = (x + delta).clamp(0, 1) - x;
  }
  return (x + delta).detach();
}

}  // namespace

void check_pgd_options(const PgdOptions& o, const std::string& owner) {
  if (!(o.eps >= 0) || !(o.step_size >= 0) || o.steps < 0)
    throw ConfigError(owner + ": eps, step_size and steps must be >= 0");
}

PgdOptions pbe_pgd_options() {
  PgdOptions o;
  o.eps = 6.0 / 255;
  o.step_size = o.eps / 5;
  o.steps = 7;
  o.random_start = false;
  o.clamp = false;
  return o;
}

at::Tensor pgd(ClassifierImpl& model, const at::Tensor& x, const at::Tensor& y, const PgdOptions& o,
               uint64_t seed) {
  auto delta = o.random_start ? random_start(x, o, seed) : torch::zeros_like(x);
  return run_pgd(model, x, y, o, delta);
}

at::Tensor pgd_sharded(ClassifierImpl& model, const Dataset& data, const at::Tensor& indices,
                       const at::Tensor& labels, const PgdOptions& o, ProcessGroup& group,
                       uint64_t seed, int64_t batch_size) {
  const int64_t n = indices.size(0);
  const int64_t batches = (n + batch_size - 1) / batch_size;
  // Each global batch is split over the ranks (as in training), so every rank does an equal
  // share and the random start, drawn for the whole global batch, is rank-count independent.
  const int64_t local_max = (batch_size + group.size() - 1) / group.size();
  const torch::Device device = model.device();  // the examples are gathered and returned on the CPU
  auto local = torch::zeros({batches * local_max, data.channels(), data.height(), data.width()});
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t begin = b * batch_size, global = std::min(batch_size, n - begin);
    auto [lo, hi] = shard_range(global, group.rank(), group.size());
    if (hi == lo) continue;
    auto idx = indices.narrow(0, begin + lo, hi - lo);
    auto x = to_float(data.images.index_select(0, idx).to(device));
    auto start = torch::zeros_like(x);
    if (o.random_start)
      start = random_start(torch::zeros({global, x.size(1), x.size(2), x.size(3)}), o, mix_seed(seed, b))
                  .narrow(0, lo, hi - lo).to(device);
    auto adv = run_pgd(model, x, labels.narrow(0, begin + lo, hi - lo).to(device), o, start);
    local.narrow(0, b * local_max, hi - lo).copy_(adv);
  }
  // Gather [size, batches * local_max, ...] and put the rows back in global order.
  auto gathered = group.allgather(local).view({group.size(), batches, local_max, data.channels(),
                                               data.height(), data.width()});
  auto out = torch::empty({n, data.channels(), data.height(), data.width()});
  for (int64_t b = 0; b < batches; ++b) {
    const int64_t begin = b * batch_size, global = std::min(batch_size, n - begin);
    for (int r = 0; r < group.size(); ++r) {
      auto [lo, hi] = shard_range(global, r, group.size());
      if (hi > lo) out.narrow(0, begin + lo, hi - lo).copy_(gathered[r][b].narrow(0, 0, hi - lo));
    }
  }
  return out;
}

}  // namespace pbe
