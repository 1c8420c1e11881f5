#include "core/defenses/pbe.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/metrics/evaluation.h"
#include "core/random.h"

namespace pbe {

at::Tensor cosine_scores(const at::Tensor& a, const at::Tensor& b) {
  namespace F = torch::nn::functional;
  return 0.5 + 0.5 * F::cosine_similarity(a, b, F::CosineSimilarityFuncOptions().dim(1).eps(1e-12));
}

at::Tensor top_fraction(const at::Tensor& scores, double fraction) {
  const auto k = static_cast<int64_t>(std::llround(fraction * static_cast<double>(scores.numel())));
  // Stable descending sort: among equal scores the lower row comes first.
  auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  return std::get<0>(order.narrow(0, 0, k).sort());
}

Pbe::Pbe(const PbeOptions& o) : options_(o) {
  if (!(o.initial_fraction > 0 && o.initial_fraction <= 1))
    throw ConfigError("pbe: initial_fraction must be in (0, 1]");
  if (o.steps < 1 || o.epochs_per_step < 1) throw ConfigError("pbe: steps and epochs_per_step must be positive");
  o.sgd.check("pbe");
  if (o.adversarial_batches < 0) throw ConfigError("pbe: adversarial_batches must be >= 0");
  if (static_cast<int>(o.fractions.size()) != o.steps - 1)
    throw ConfigError("pbe: fractions needs steps - 1 = " + std::to_string(o.steps - 1) + " values, got " +
                      std::to_string(o.fractions.size()));
  for (double f : o.fractions)
    if (!(f > 0 && f <= 1)) throw ConfigError("pbe: fractions must be in (0, 1]");
  check_pgd_options(o.pgd, "pbe");
  o.augmentation.check("pbe");
}

double Pbe::estimated_image_epochs(const WorkSize& size) const {
  const double n = static_cast<double>(size.train);
  // Image passes as progress counts them; the logit passes over the training set (the infected
  // model's, and one scoring pass per step: inference, a third of a training pass) are left out.
  double total = 0;
  double set = options_.initial_fraction * n;
  for (int k = 0; k < options_.steps; ++k) {
    total += set * options_.epochs_per_step;
    // Step 0 is adversarial throughout; later steps for their first adversarial batches.
    total += (k == 0 ? set * options_.epochs_per_step
                     : std::min(set, static_cast<double>(options_.adversarial_batches * options_.sgd.batch_size))) *
             options_.pgd.steps;
    if (k + 1 < options_.steps) set = options_.fractions[k] * n;
  }
  return total;
}

DefenseResult Pbe::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  using Clock = std::chrono::steady_clock;
  const Dataset& train = ctx.poisoned_train;
  ProcessGroup& group = ctx.group;
  const auto infected_logits = predict_logits(model, train.images, group);
  auto selected = seeded_sample(train.size(), std::llround(options_.initial_fraction * train.size()),
                                derive_seed(ctx.seed, "initial"));
  DefenseResult result;
  Columns steps{{"step", {}}, {"size", {}}, {"poisoned", {}}, {"clean_precision", {}},
              {"clean_recall", {}}, {"acc", {}}, {"asr", {}}, {"seconds", {}}};
  auto record = [&](int step, const at::Tensor& rows, const EvalPoint& eval, double seconds) {
    const SelectionQuality q = ctx.judge ? ctx.judge(rows) : SelectionQuality{rows.numel(), -1, NAN, NAN};
    const std::vector<double> values{static_cast<double>(step), static_cast<double>(q.size),
                                     static_cast<double>(q.poisoned), q.clean_precision, q.clean_recall,
                                     eval.acc, eval.asr, seconds};
    for (size_t i = 0; i < values.size(); ++i) steps[i].second.push_back(values[i]);
  };
  for (int k = 0; k < options_.steps; ++k) {
    const auto start = Clock::now();
    TrainOptions t = options_.sgd.train_options(
        options_.epochs_per_step, options_.augmentation.resolve(train, ctx.augmentation), mix_seed(ctx.seed, k),
        "pbe step " + std::to_string(k + 1) + "/" + std::to_string(options_.steps));
    const int64_t adversarial_batches = options_.adversarial_batches;
    t.transform = adversarial_transform(options_.pgd, derive_seed(t.seed, "pgd"),
                                        [k, adversarial_batches](int epoch, int64_t batch) {
                                          return k == 0 || (epoch == 0 && batch < adversarial_batches);
                                        });
    Dataset set = train.subset(selected);
    TrainCurve curve = train_classifier(model, set, t, group, ctx.evaluate, ctx.progress);
    for (auto& e : curve) {
      e.epoch += k * options_.epochs_per_step;
      result.curve.push_back(e);
    }
    const EvalPoint eval = curve.empty() ? EvalPoint{} : curve.back().eval;
    record(k, selected, eval, std::chrono::duration<double>(Clock::now() - start).count());
    if (k + 1 < options_.steps) {
      auto scores = cosine_scores(infected_logits, predict_logits(model, train.images, group));
      selected = top_fraction(scores, options_.fractions[k]);
      const auto s = scores.to(torch::kDouble).contiguous();
      result.rows.emplace_back("score_step" + std::to_string(k),
                               std::vector<double>(s.data_ptr<double>(), s.data_ptr<double>() + s.numel()));
    }
  }
  result.steps = std::move(steps);
  result.selected = selected;
  return result;
}

PBE_REGISTER_DEFENSE(Pbe, PbeOptions, "pbe",
                     "PBE, Progressive Backdoor Erasing (Mu et al. 2023): no clean data; adversarial fine-tuning and filtering of the training set")

}  // namespace pbe
