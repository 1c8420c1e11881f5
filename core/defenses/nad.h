#pragma once
#include <vector>

#include "core/defenses/defense.h"

namespace pbe {

// NAD, Neural Attention Distillation (Li et al. 2021): fine-tune a copy of the infected model on
// the clean extra set (the teacher), then fine-tune the infected model itself (the student) on
// the same set with cross-entropy plus, for each stage the model exposes
// (ClassifierImpl::forward_stages), beta times the distance between the student's and the
// teacher's attention maps. The teacher runs in eval mode and is not updated.
// Defaults are BackdoorBench's: teacher 10 epochs, student 20, betas 500/1000/1000 for the three
// deepest stages, p = 2, and the FT recipe (SGD lr 0.01, momentum 0.9, wd 5e-4, batch 128, cosine).
struct NadOptions {
  double clean_fraction = 0.05;
  int teacher_epochs = 10;
  int epochs = 20;
  std::vector<double> betas{500, 1000, 1000};
  double power = 2.0;
  SgdRecipe sgd;
  void visit(OptionVisitor& v) {
    v("clean_fraction", clean_fraction, "clean extra set size / training set size");
    v("teacher_epochs", teacher_epochs, "fine-tuning epochs of the teacher");
    v("epochs", epochs, "distillation epochs of the student");
    v("betas", betas, "attention-loss weight per model stage, shallow to deep (the deepest stages)");
    v("power", power, "p of the attention map");
    sgd.visit(v);
  }
};

class Nad final : public Defense {
 public:
  explicit Nad(const NadOptions& options);  // ConfigError on bad options
  std::string name() const override { return "nad"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  double estimated_image_epochs(const WorkSize& size) const override;
  // ConfigError when the model's stage count differs from betas' (or it exposes none).
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  NadOptions options_;
};

// The attention map of feature maps [N, C, H, W]: sum over channels of |a|^p, flattened to
// [N, H*W] and scaled to unit L2 norm per image (eps 1e-6 in the denominator).
at::Tensor attention_map(const at::Tensor& maps, double power);
// NAD's attention loss: the mean squared difference of the two attention maps (over images and
// positions).
at::Tensor attention_loss(const at::Tensor& student, const at::Tensor& teacher, double power);

}  // namespace pbe
