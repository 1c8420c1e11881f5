#pragma once
// SAU, Shared Adversarial Unlearning (Wei et al., "Shared Adversarial Unlearning: Backdoor
// Mitigation by Unlearning Shared Adversarial Examples", NeurIPS 2023; the authors' code is
// BackdoorBench's defense/sau.py, config/defense/sau/config.yaml). A frozen copy h_0 of the
// backdoored model is kept; the model h being purified, and h_0, stay in eval mode (batch norm on
// its running statistics: BackdoorBench's default, without --train_mode). Every batch of the clean
// extra set (not augmented, as the code's test transform), each round:
//   1. Shared PGD: per image an L_inf perturbation d in pixel space, started at +bound, takes up to
//      `adv_steps` steps d <- clip(d - step * sign(grad), -bound, bound) (no clip of x + d to
//      [0, 1]: not needed for a defense, as in the code) of
//        adv_weight * L_adv + shared_weight * L_share, over the batch's N images,
//        L_adv   = -(sum CE(h(x+d), y) over the images h does not yet send off its own prediction
//                   + the same for h_0) / 2N,
//        L_share = sum JS(softmax h(x+d), softmax h_0(x+d)) over the images not yet "shared" / N,
//      an image being shared when h and h_0 both leave their own prediction on x+d, for the same
//      label. The steps stop early once every image of the (global) batch is shared.
//   2. One Adam step on h for
//        clean_weight * CE(h(x), y) + at_weight * CE(h(x+d), y) + shared_risk_weight * L_sar,
//        L_sar = sum over images where h_0(x+d) is neither y nor h_0(x) of
//                -(log(1e-6 + min(1 - p, 0.999)) + log(1 + 1e-6 - max(p, 0.001))) / 2 / N,
//      p = h's probability of h_0(x+d)'s label: h unlearns the label the backdoored model gives
//      the adversarial example.
// Defaults are the code's: bound 0.2, step 0.2, 5 steps, weights 0.01 and 1 (maximisation), 1, 0
// and 1 (minimisation), Adam (AMSGrad, as BackdoorBench builds it) lr 1e-4 without weight decay,
// constant (the config's cosine scheduler is never stepped), batch 256, 100 rounds, 5% clean data.
// Needs a model that can be copied (ClassifierImpl::replicate: every built-in and TorchScript one).
#include <cstdint>

#include "core/defenses/defense.h"

namespace pbe {

struct SauOptions {
  double clean_fraction = 0.05;
  int rounds = 100;
  double bound = 0.2;
  double adv_step = 0.2;
  int adv_steps = 5;
  double adv_weight = 0.01;
  double shared_weight = 1.0;
  double clean_weight = 1.0;
  double at_weight = 0.0;
  double shared_risk_weight = 1.0;
  double lr = 1e-4;
  int64_t batch_size = 256;
  void visit(OptionVisitor& v) {
    v("clean_fraction", clean_fraction, "clean extra set size / training set size");
    v("rounds", rounds, "passes over the clean extra set");
    v("bound", bound, "L_inf bound of the shared adversarial perturbation, in [0, 1] pixel units");
    v("adv_step", adv_step, "sign-step size of the shared PGD");
    v("adv_steps", adv_steps, "most steps of the shared PGD per batch");
    v("adv_weight", adv_weight, "weight of the adversarial term in the maximisation (beta_1)");
    v("shared_weight", shared_weight, "weight of the Jensen-Shannon agreement term in the maximisation (beta_2)");
    v("clean_weight", clean_weight, "weight of the clean cross-entropy in the unlearning step (lambda_1)");
    v("at_weight", at_weight, "weight of adversarial training on the shared examples (lambda_2)");
    v("shared_risk_weight", shared_risk_weight, "weight of the shared adversarial risk (lambda_3)");
    v("lr", lr, "Adam learning rate");
    v("batch_size", batch_size, "global batch, split over the ranks");
  }
};

class Sau final : public Defense {
 public:
  explicit Sau(const SauOptions& options);  // ConfigError on bad options
  std::string name() const override { return "sau"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  // Per image and round: both models' predictions on x, two forward-backward passes per PGD step
  // (all `adv_steps` counted: an early stop does not change the estimate), and the unlearning
  // step (h on x and x + d, h_0 on x + d).
  double estimated_image_epochs(const WorkSize& size) const override;
  // steps: one row per round: round, pgd_steps (mean steps per batch), shared (share of the set's
  // images whose final perturbation is shared), reference_fooled (share where h_0(x+d) is neither
  // y nor h_0(x): the images L_sar unlearns), loss (mean unlearning loss).
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  SauOptions options_;
};

// Step 1 for one batch: this rank's images `x` (labels `y`) and their share of a global batch of
// `global` images. Every rank of the group calls it together (the early stop is global).
struct SharedPerturbation {
  at::Tensor delta;            // the perturbations (undefined for an empty share)
  at::Tensor reference_label;  // h_0's predictions on x, which step 2 needs again
  int steps = 0;               // PGD steps taken
};
SharedPerturbation shared_adversarial_perturbation(ClassifierImpl& model, ClassifierImpl& reference, const at::Tensor& x,
                                                   const at::Tensor& y, int64_t global, const SauOptions& options,
                                                   ProcessGroup& group);

}  // namespace pbe
