#pragma once
#include "core/defenses/defense.h"

namespace pbe {

// FT: plain fine-tuning of the infected model on the clean extra set (BackdoorBench's "ft").
struct FineTuningOptions {
  double clean_fraction = 0.05;
  int epochs = 10;
  SgdRecipe sgd;  // BackdoorBench's: batch 128, lr 0.01, momentum 0.9, wd 5e-4, cosine
  void visit(OptionVisitor& v) {
    v("clean_fraction", clean_fraction, "clean extra set size / training set size");
    v("epochs", epochs, "fine-tuning epochs");
    sgd.visit(v);
  }
};

class FineTuning final : public Defense {
 public:
  explicit FineTuning(const FineTuningOptions& options);
  std::string name() const override { return "ft"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  double estimated_image_epochs(const WorkSize& size) const override;
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  FineTuningOptions options_;
};

}  // namespace pbe
