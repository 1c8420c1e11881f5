#include "core/defenses/ft_sam.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/training/batches.h"
#include "core/training/data_parallel.h"
#include "core/training/stop.h"

namespace pbe {
namespace {

// Per row: KL(smoothed one-hot || softmax(logits)), BackdoorBench's smooth_crossentropy.
at::Tensor smoothed_loss(const at::Tensor& logits, const at::Tensor& labels, double smoothing) {
  const int64_t classes = logits.size(1);
  auto target = torch::full_like(logits, smoothing / static_cast<double>(classes - 1));
  target.scatter_(1, labels.unsqueeze(1), 1.0 - smoothing);
  return (torch::special::xlogy(target, target) - target * torch::log_softmax(logits, 1)).sum(1);
}

}  // namespace

std::vector<at::Tensor> sam_perturbation(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& grads,
                                         double rho, bool adaptive) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> scaled_norms;
  for (size_t i = 0; i < weights.size(); ++i)
    if (grads[i].defined()) scaled_norms.push_back((adaptive ? weights[i].abs() * grads[i] : grads[i]).norm());
  std::vector<at::Tensor> e(weights.size());
  if (scaled_norms.empty()) return e;
  const auto scale = rho / (torch::stack(scaled_norms).norm() + 1e-12);  // a tensor: no host sync on a GPU
  for (size_t i = 0; i < weights.size(); ++i)
    if (grads[i].defined()) e[i] = adaptive ? grads[i] * scale * weights[i].square() : grads[i] * scale;
  return e;
}

double ft_sam_learning_rate(const FtSamOptions& o, int64_t t, int64_t total_steps) {
  const int64_t period = o.lr_period_steps > 0 ? o.lr_period_steps : std::max<int64_t>(1, total_steps);
  return o.lr * 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(t) / static_cast<double>(period)));
}

FtSam::FtSam(const FtSamOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1)) throw ConfigError("ft-sam: clean_fraction must be in (0, 1]");
  if (o.epochs < 1 || o.batch_size < 1) throw ConfigError("ft-sam: epochs and batch_size must be positive");
  if (!(o.rho >= 0)) throw ConfigError("ft-sam: rho must be >= 0");
  if (!(o.label_smoothing >= 0 && o.label_smoothing < 1)) throw ConfigError("ft-sam: label_smoothing must be in [0, 1)");
  if (o.lr_period_steps < 0) throw ConfigError("ft-sam: lr_period_steps must be >= 0");
  if (!(o.lr > 0) || !(o.momentum >= 0) || !(o.weight_decay >= 0))
    throw ConfigError("ft-sam: lr must be positive, momentum and weight_decay >= 0");
}

double FtSam::estimated_image_epochs(const WorkSize& size) const {
  return 2.0 * options_.epochs * static_cast<double>(size.clean);
}

DefenseResult FtSam::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  using Clock = std::chrono::steady_clock;
  const FtSamOptions& o = options_;
  const Dataset& clean = ctx.clean_extra;
  if (clean.size() == 0) throw ConfigError("ft-sam: the clean extra set is empty");
  if (clean.num_classes < 2) throw ConfigError("ft-sam: label smoothing needs at least 2 classes");
  ProcessGroup& group = ctx.group;
  broadcast_model(model, group);
  std::vector<at::Tensor> params;
  for (auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  TrainOptions record;  // what close_epoch reads: the phase's name, its epochs, evaluation every epoch
  record.epochs = o.epochs;
  record.phase = "ft-sam";
  const int64_t per_epoch = (clean.size() + o.batch_size - 1) / o.batch_size;
  const int64_t total_steps = per_epoch * o.epochs;
  const auto grads = [&] {
    std::vector<at::Tensor> g;
    for (auto& p : params) g.push_back(p.grad());
    return g;
  };
  DefenseResult result;
  int64_t step = 0, images = 0;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    const auto start = Clock::now();
    model.train();
    EpochBatches batches(clean, o.batch_size, ctx.augmentation, group, derive_seed(ctx.seed, "ft-sam"), epoch,
                         model.device());
    auto stats = torch::zeros({3}, torch::TensorOptions(torch::kDouble).device(model.device()));
    const double first_lr = ft_sam_learning_rate(o, step, total_steps);
    for (int64_t b = 0; b < batches.count(); ++b, ++step) {
      set_learning_rate(sgd, ft_sam_learning_rate(o, step, total_steps));
      const LocalBatch batch = batches.get(b);
      const double global = static_cast<double>(batch.global);
      // 1. The gradient at w.
      sgd.zero_grad();
      if (!batch.empty()) {
        const auto logits = model.forward(batch.x);
        const auto loss_sum = smoothed_loss(logits, batch.y, o.label_smoothing).sum();
        (loss_sum / global).backward();
        stats += torch::stack({loss_sum.detach().to(torch::kDouble), logits.argmax(1).eq(batch.y).sum().to(torch::kDouble),
                               torch::scalar_tensor(static_cast<double>(batch.hi - batch.lo), stats.options())});
      }
      allreduce_gradients(model, group);
      // 2. The climb to w + e; the running statistics are put back after the second pass.
      const auto e = sam_perturbation(params, grads(), o.rho, o.adaptive);
      std::vector<at::Tensor> buffers, saved;
      {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < params.size(); ++i)
          if (e[i].defined()) params[i].add_(e[i]);
        for (auto& buffer : model.buffers()) {
          buffers.push_back(buffer);
          saved.push_back(buffer.clone());
        }
      }
      // 3. The gradient at w + e, taken at w.
      sgd.zero_grad();
      if (!batch.empty()) (smoothed_loss(model.forward(batch.x), batch.y, o.label_smoothing).sum() / global).backward();
      allreduce_gradients(model, group);
      {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
        for (size_t i = 0; i < params.size(); ++i)
          if (e[i].defined()) params[i].sub_(e[i]);
      }
      sgd.step();
      images += 2 * batch.global;
      if (ctx.progress) ctx.progress({"ft-sam", epoch, o.epochs, b + 1, batches.count(), images});
    }
    EpochRecord rec = close_epoch(stats, model, record, epoch, first_lr, group, ctx.evaluate);
    rec.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.curve.push_back(rec);
    if (epoch + 1 < o.epochs) stop_point(group);
  }
  model.eval();
  return result;
}

PBE_REGISTER_DEFENSE(FtSam, FtSamOptions, "ft-sam",
                     "FT-SAM (Zhu et al. 2023): fine-tuning with (adaptive) sharpness-aware minimisation and "
                     "label smoothing")

}  // namespace pbe
