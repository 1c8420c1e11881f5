#pragma once
#include <string>

#include "core/adversarial/pgd.h"
#include "core/attacks/attack.h"

namespace pbe {

// Label-Consistent (Turner et al. 2019, "Label-Consistent Backdoor Attacks"): target-class
// training images are first made hard to classify by an untargeted PGD perturbation against a
// clean model, so the model must lean on the trigger, then stamped with a 3x3 checkerboard in all
// four corners; labels stay correct. poison_rate is the fraction of the target class (Turner et
// al.'s poisoning proportion, 1.0 in their release; on Fashion-MNIST that costs ~7 points of
// clean accuracy and 0.5, BackdoorBox's MNIST setting, does not: docs/attacks.md). PGD defaults
// follow BackdoorBox/BackdoorBench: L_inf, eps 8/255, step 1.5/255, 100 steps, no random start.
struct LabelConsistentOptions : PoisonOptions {
  LabelConsistentOptions() {
    poison_rate = 1.0;
    pgd.eps = 8.0 / 255;
    pgd.step_size = 1.5 / 255;
    pgd.steps = 100;
    pgd.random_start = false;
    pgd.clamp = true;
  }
  PgdOptions pgd;
  int size = 3;
  double amplitude = 1.0;
  int surrogate_epochs = 0;
  void visit(OptionVisitor& v) {
    PoisonOptions::visit(v);
    v.block("pgd", [this](OptionVisitor& b) { pgd.visit(b); }, "the PGD that makes the target-class images hard");
    v("size", size, "checkerboard side in each corner");
    v("amplitude", amplitude, "Turner et al.'s reduced amplitude; 1 = full black/white");
    v("surrogate_epochs", surrogate_epochs, "training epochs of the clean surrogate; 0 = the victim's");
  }
};

class LabelConsistent final : public PoisonLabelAttack {
 public:
  LabelConsistent(const LabelConsistentOptions& options, const ImageShape& shape);
  std::string name() const override { return "lc"; }
  double extra_image_epochs(int64_t train_size, int victim_epochs) const override;
  // Trains the clean surrogate and perturbs the target-class rows poison() will use.
  void prepare(const AttackContext& context) override;
  at::Tensor apply_trigger(const at::Tensor& images) const override;
  NamedTensors artifacts(int64_t channels, int64_t height, int64_t width) const override;
  NamedTensors state() const override { return {{"adversarial_rows", adversarial_rows_}, {"adversarial_images", adversarial_images_}}; }
  void restore(const NamedTensors& state) override;
  // The four-corner checkerboard as a pattern [C, H, W] and mask [H, W] (the pattern holds the
  // pixel values where amplitude = 1 and is blended by amplitude otherwise).
  at::Tensor pattern(int64_t channels, int64_t height, int64_t width) const;
  at::Tensor mask(int64_t height, int64_t width) const;

 protected:
  // The prepared adversarial versions of `rows`, then the trigger. Throws RunError if prepare()
  // did not run.
  at::Tensor poison_images(const at::Tensor& images, const at::Tensor& rows) const override;

 private:
  LabelConsistentOptions options_;
  at::Tensor adversarial_rows_;    // int64 [R]: the training rows perturbed
  at::Tensor adversarial_images_;  // float [R, C, H, W]
};

}  // namespace pbe
