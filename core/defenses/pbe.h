#pragma once
#include <vector>

#include "core/adversarial/pgd.h"
#include "core/defenses/aft.h"
#include "core/defenses/defense.h"

namespace pbe {

// PBE, Progressive Backdoor Erasing without clean data (Mu et al. 2023). The defender holds the
// infected model and the poisoned training set, not knowing which rows are poisoned:
//   0. record the infected model's logits on every training row;
//   1. S = a random initial_fraction of the training set;
//   2. for step k = 0 .. steps-1:
//      - model purification: fine-tune on S for epochs_per_step epochs; step 0 entirely on
//        untargeted PGD examples of S (with S's labels), later steps only the first
//        adversarial_batches batches of their first epoch;
//      - data purification (except after the last step): score every row by
//        s(x) = 0.5 + 0.5 cos(logits_infected(x), logits_now(x)) and keep the top
//        fractions[k] of the set as the next S (poisoned rows change prediction once the backdoor
//        is erased, so they score low). The result's `rows` keep each row's scores
//        (score_step0 .. score_step{steps-2}), so the filter's separation can be measured.
// Defaults are the released code's: 5% initial set, 4 steps of 10 epochs, 31 adversarial
// batches, fractions 20/50/70%, PGD eps 6/255 step eps/5 7 steps no random start no clamping,
// SGD lr 0.001 momentum 0.9 weight decay 5e-4 batch 128 constant, the release's augmentation on
// CIFAR-like data (DefenseAugmentation). Unlike that code, each epoch's order is shuffled (its "first 31
// batches" were always the same rows) and the loop ends cleanly.
struct PbeOptions {
  double initial_fraction = 0.05;
  int steps = 4;
  int epochs_per_step = 10;
  int adversarial_batches = 31;
  std::vector<double> fractions{0.2, 0.5, 0.7};
  PgdOptions pgd = pbe_pgd_options();
  SgdRecipe sgd = pbe_sgd_recipe();
  DefenseAugmentation augmentation;
  void visit(OptionVisitor& v) {
    v("initial_fraction", initial_fraction, "share of the training set in the first, random working set");
    v("steps", steps, "purification steps");
    v("epochs_per_step", epochs_per_step, "fine-tuning epochs per step");
    v("adversarial_batches", adversarial_batches, "steps >= 1: batches of the first epoch on adversarial examples");
    v("fractions", fractions, "share of the training set kept after each step but the last (steps - 1 values)");
    v.block("pgd", [this](OptionVisitor& b) { pgd.visit(b); }, "the adversarial examples' PGD");
    v("augmentation", augmentation, DefenseAugmentation::kDoc);
    sgd.visit(v);
  }
};

class Pbe final : public Defense {
 public:
  explicit Pbe(const PbeOptions& options);  // ConfigError on bad options
  std::string name() const override { return "pbe"; }
  double estimated_image_epochs(const WorkSize& size) const override;
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  PbeOptions options_;
};

// 0.5 + 0.5 cos(a_i, b_i) per row of two logit matrices [N, C]: 1 = same direction, 0 = opposite.
at::Tensor cosine_scores(const at::Tensor& a, const at::Tensor& b);
// The rows (int64, sorted) of the top `fraction` of `scores` (ties broken by lower row index).
at::Tensor top_fraction(const at::Tensor& scores, double fraction);

}  // namespace pbe
