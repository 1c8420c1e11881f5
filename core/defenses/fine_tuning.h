#pragma once
#include "core/defenses/defense.h"

namespace pbe {

// FT: plain fine-tuning of the infected model on the clean extra set (BackdoorBench's "ft").
struct FineTuningOptions {
  double clean_fraction = 0.05;  // Clean extra set size / training set size. Default: 0.05
  int epochs = 10;               // Default: 10
  SgdRecipe sgd;                 // Default: batch 128, lr 0.01, momentum 0.9, wd 5e-4, cosine
};

class FineTuning final : public Defense {
 public:
  explicit FineTuning(const FineTuningOptions& options);
  std::string name() const override { return "ft"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  double estimated_image_epochs(int64_t train_size, int num_classes) const override;
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  FineTuningOptions options_;
};

}  // namespace pbe
