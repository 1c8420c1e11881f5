#pragma once
// FT-SAM, fine-tuning with sharpness-aware minimisation (Zhu et al., "Enhancing Fine-Tuning Based
// Backdoor Defense with Sharpness-Aware Minimization", ICCV 2023; official code in BackdoorBench,
// defense/ft-sam.py with utils/defense_utils/sam/, config/defense/ft-sam/cifar10.yaml).
// Every step on the clean extra set:
//   1. g = the gradient of the label-smoothed cross-entropy at w (global over the ranks);
//   2. the weights climb to w + e, e = rho * T^2 g / ||T g|| with T = |w| elementwise (adaptive
//      SAM, ASAM) or T = 1 (SAM), the norm over every parameter together;
//   3. the gradient at w + e (batch norm on the same batch's statistics; its running statistics
//      are not updated by this second pass, BackdoorBench's momentum 0) replaces g, the weights
//      go back to w, and SGD (momentum, weight decay) steps with it.
// Label smoothing as BackdoorBench's smooth_crossentropy: 1 - s on the label, s / (K - 1) on each
// other class, loss KL(target || softmax), whose gradient is the smoothed cross-entropy's.
// Defaults are BackdoorBench's (the authors' implementation): ASAM (its --adaptive flag is
// store_false, so adaptive unless given), rho 2.0 (rho_max = rho_min: constant), smoothing 0.1,
// SGD lr 0.01, momentum 0.9, weight decay 5e-4, batch 256, 100 epochs, the clean data augmented
// as for training, 5% clean data. The learning rate follows torch's CosineAnnealingLR(T_max = 100)
// stepped once per batch, as BackdoorBench steps it: lr_t = lr (1 + cos(pi t / 100)) / 2 for the
// t-th step, a cosine that reaches 0 every 100 steps and climbs back (on CIFAR-10's 5%, 10 batches
// an epoch: five such waves over 100 epochs). `lr_period_steps` 0 anneals once over the whole run.
// Works on any model, TorchScript included.
#include <vector>

#include "core/defenses/defense.h"

namespace pbe {

struct FtSamOptions {
  double clean_fraction = 0.05;
  int epochs = 100;
  double rho = 2.0;
  bool adaptive = true;
  double label_smoothing = 0.1;
  int64_t lr_period_steps = 100;
  int64_t batch_size = 256;
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  void visit(OptionVisitor& v) {
    v("clean_fraction", clean_fraction, "clean extra set size / training set size");
    v("epochs", epochs, "fine-tuning epochs");
    v("rho", rho, "radius of the weight perturbation");
    v("adaptive", adaptive, "ASAM: the perturbation scaled by each weight's magnitude (false: plain SAM)");
    v("label_smoothing", label_smoothing, "share of the target spread over the other classes");
    v("lr_period_steps", lr_period_steps,
      "steps of the per-batch cosine from lr to 0 (BackdoorBench's T_max 100; 0 = the whole run)");
    v("batch_size", batch_size, "global batch, split over the ranks");
    v("lr", lr, "SGD learning rate");
    v("momentum", momentum, "SGD momentum");
    v("weight_decay", weight_decay, "SGD weight decay");
  }
};

class FtSam final : public Defense {
 public:
  explicit FtSam(const FtSamOptions& options);  // ConfigError on bad options
  std::string name() const override { return "ft-sam"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  // Two forward-backward passes per image and epoch.
  double estimated_image_epochs(const WorkSize& size) const override;
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  FtSamOptions options_;
};

// The weight perturbation e of step 2 for parameters `weights` with (global) gradients `grads`
// (an undefined gradient gets an undefined e and counts as zero).
std::vector<at::Tensor> sam_perturbation(const std::vector<at::Tensor>& weights, const std::vector<at::Tensor>& grads,
                                         double rho, bool adaptive);

// The learning rate of step `t` (0-based) of `total_steps`: the cosine above.
double ft_sam_learning_rate(const FtSamOptions& options, int64_t t, int64_t total_steps);

}  // namespace pbe
