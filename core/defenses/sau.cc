#include "core/defenses/sau.h"

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

namespace F = torch::nn::functional;

// About the passes of one image in one round, counted as forward-backward passes: both models'
// predictions on x (1), two per PGD step, the unlearning step (h on x and x + d: 2, h_0 on x + d: 1).
int64_t passes_per_image(const SauOptions& o) { return 2 * static_cast<int64_t>(o.adv_steps) + 4; }

}  // namespace

SharedPerturbation shared_adversarial_perturbation(ClassifierImpl& model, ClassifierImpl& reference, const at::Tensor& x,
                                                   const at::Tensor& y, int64_t global, const SauOptions& o,
                                                   ProcessGroup& group) {
  FrozenModel frozen(model);
  FrozenModel frozen_reference(reference);
  const bool any = x.defined() && x.size(0) > 0;
  const double n = static_cast<double>(global);
  at::Tensor own, own_reference, d;
  if (any) {
    torch::NoGradGuard no_grad;
    own = model.forward(x).argmax(1);
    own_reference = reference.forward(x).argmax(1);
    d = torch::full_like(x, o.bound);  // the code's "max" start
  }
  int steps = 0;
  auto open = torch::zeros({1}, torch::kDouble);  // images of the global batch not shared yet
  for (int s = 0; s < o.adv_steps; ++s) {
    open.zero_();
    if (any) {
      auto dv = d.detach().requires_grad_(true);
      const auto xp = x + dv;
      const auto logits = model.forward(xp), logits_reference = reference.forward(xp);
      const auto label = logits.argmax(1), label_reference = logits_reference.argmax(1);
      const auto fooled = label.ne(own), fooled_reference = label_reference.ne(own_reference);
      const auto shared = fooled & fooled_reference & label.eq(label_reference);
      const auto none = F::CrossEntropyFuncOptions().reduction(torch::kNone);
      const auto adversarial = -((F::cross_entropy(logits, y, none) * fooled.logical_not()).sum() +
                                 (F::cross_entropy(logits_reference, y, none) * fooled_reference.logical_not()).sum()) /
                               (2 * n);
      const auto p = torch::softmax(logits, 1).clamp_min(1e-8), q = torch::softmax(logits_reference, 1).clamp_min(1e-8);
      const auto m = 0.5 * (p + q);
      const auto js = (0.5 * (p * p.log() + q * q.log()) - 0.5 * (p * m.log() + q * m.log())).sum(1);
      const auto agreement = (js * shared.logical_not()).sum() / n;
      const auto loss = o.adv_weight * adversarial + o.shared_weight * agreement;
      const auto g = torch::autograd::grad({loss}, {dv})[0];
      d = (d - o.adv_step * g.sign()).clamp(-o.bound, o.bound);
      open[0] = shared.logical_not().sum().item<double>();
    }
    steps = s + 1;
    group.allreduce(open);
    if (open.item<double>() == 0) break;  // judged before this step, as the code does
  }
  return {d, own_reference, steps};
}

Sau::Sau(const SauOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1)) throw ConfigError("sau: clean_fraction must be in (0, 1]");
  if (o.rounds < 1 || o.adv_steps < 1 || o.batch_size < 1)
    throw ConfigError("sau: rounds, adv_steps and batch_size must be positive");
  if (!(o.bound > 0 && o.adv_step > 0 && o.lr > 0)) throw ConfigError("sau: bound, adv_step and lr must be positive");
  for (double w : {o.adv_weight, o.shared_weight, o.clean_weight, o.at_weight, o.shared_risk_weight})
    if (!(w >= 0)) throw ConfigError("sau: the loss weights must be >= 0");
}

double Sau::estimated_image_epochs(const WorkSize& size) const {
  return options_.rounds * static_cast<double>(size.clean) *
         static_cast<double>(passes_per_image(options_));
}

DefenseResult Sau::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  using Clock = std::chrono::steady_clock;
  const SauOptions& o = options_;
  const Dataset& clean = ctx.clean_extra;
  if (clean.size() == 0) throw ConfigError("sau: the clean extra set is empty");
  ProcessGroup& group = ctx.group;
  broadcast_model(model, group);
  const auto reference = model.replicate();  // h_0: ConfigError for a model that cannot be copied
  for (auto& p : reference->parameters()) p.requires_grad_(false);
  reference->eval();
  std::vector<at::Tensor> params;
  for (auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  torch::optim::Adam adam(params, torch::optim::AdamOptions(o.lr).amsgrad(true));
  TrainOptions record;  // what close_epoch reads
  record.epochs = o.rounds;
  record.phase = "sau";
  const auto sum = F::CrossEntropyFuncOptions().reduction(torch::kSum);
  DefenseResult result;
  result.steps = {{"round", {}}, {"pgd_steps", {}}, {"shared", {}}, {"reference_fooled", {}}, {"loss", {}}};
  int64_t images = 0;
  for (int round = 0; round < o.rounds; ++round) {
    const auto start = Clock::now();
    model.eval();
    EpochBatches batches(clean, o.batch_size, Augmentation{}, group, derive_seed(ctx.seed, "sau"), round,
                         model.device());
    const auto on = torch::TensorOptions(torch::kDouble).device(model.device());
    auto stats = torch::zeros({3}, on);   // loss sum, correct on x, images
    auto shares = torch::zeros({2}, on);  // shared, reference fooled
    int64_t pgd_steps = 0;
    for (int64_t b = 0; b < batches.count(); ++b) {
      const LocalBatch batch = batches.get(b);
      const SharedPerturbation shared_pgd =
          shared_adversarial_perturbation(model, *reference, batch.x, batch.y, batch.global, o, group);
      pgd_steps += shared_pgd.steps;
      adam.zero_grad();
      if (!batch.empty()) {
        const double n = static_cast<double>(batch.global);
        const int64_t k = batch.hi - batch.lo;
        const auto xp = batch.x + shared_pgd.delta;
        const auto both = model.forward(torch::cat({batch.x, xp}));
        const auto logits = both.narrow(0, 0, k), adv_logits = both.narrow(0, k, k);
        const auto& reference_clean = shared_pgd.reference_label;
        at::Tensor reference_adv;
        {
          torch::NoGradGuard no_grad;
          reference_adv = reference->forward(xp).argmax(1);
        }
        const auto fooled_reference = reference_adv.ne(batch.y) & reference_adv.ne(reference_clean);
        const auto p = torch::softmax(adv_logits, 1);
        const auto pos = p.gather(1, reference_adv.unsqueeze(1)).squeeze(1);
        const auto neg = (p * (1 - F::one_hot(reference_adv, p.size(1)).to(p.scalar_type()))).sum(1);
        const auto risk = -(torch::log(1e-6 + neg.clamp_max(0.999)) + torch::log(1 + 1e-6 - pos.clamp_min(0.001))) / 2;
        const auto loss = o.clean_weight * F::cross_entropy(logits, batch.y, sum) / n +
                          o.at_weight * F::cross_entropy(adv_logits, batch.y, sum) / n +
                          o.shared_risk_weight * (risk * fooled_reference).sum() / n;
        loss.backward();
        torch::NoGradGuard no_grad;
        const auto label = logits.argmax(1), adv_label = adv_logits.argmax(1);
        const auto shared = adv_label.ne(label) & reference_adv.ne(reference_clean) & adv_label.eq(reference_adv);
        stats += torch::stack({loss.detach().to(torch::kDouble) * n, label.eq(batch.y).sum().to(torch::kDouble),
                               torch::scalar_tensor(static_cast<double>(k), on)});
        shares += torch::stack({shared.sum(), fooled_reference.sum()}).to(torch::kDouble);
      }
      allreduce_gradients(model, group);
      adam.step();
      images += batch.global * passes_per_image(o);
      if (ctx.progress) ctx.progress({"sau", round, o.rounds, b + 1, batches.count(), images});
    }
    group.allreduce(shares);
    EpochRecord rec = close_epoch(stats, model, record, round, o.lr, group, ctx.evaluate);
    rec.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.curve.push_back(rec);
    const double count = static_cast<double>(clean.size());
    const std::vector<double> values{static_cast<double>(round),
                                     static_cast<double>(pgd_steps) / static_cast<double>(batches.count()),
                                     shares[0].item<double>() / count, shares[1].item<double>() / count, rec.loss};
    for (size_t i = 0; i < values.size(); ++i) result.steps[i].second.push_back(values[i]);
    if (round + 1 < o.rounds) stop_point(group);
  }
  model.eval();
  return result;
}

PBE_REGISTER_DEFENSE(Sau, SauOptions, "sau",
                     "SAU (Wei et al. 2023): unlearning the adversarial examples the model shares with its "
                     "backdoored copy")

}  // namespace pbe
