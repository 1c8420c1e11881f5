#pragma once
#include "core/defenses/defense.h"

namespace pbe {

// FP, Fine-Pruning (Liu et al. 2018): rank the last convolutional layer's channels by their mean
// activation on the clean extra set, prune them from the least active up for as long as the
// pruned model's accuracy on that clean set stays above (1 - max_acc_drop) times the unpruned
// model's (the paper: "until the accuracy on the validation set drops below a pre-determined
// threshold"; BackdoorBench's relative 10%), then fine-tune. Backdoor neurons are dormant on clean data, so they go first. Pruning is a
// channel mask inside the model (ClassifierImpl::last_conv_mask), kept through fine-tuning.
struct FinePruningOptions {
  double clean_fraction = 0.05;
  // BackdoorBench's acc_ratio (which measures it on the test set; here the defender's clean set).
  double max_acc_drop = 0.1;
  double max_prune_ratio = 0.95;
  int epochs = 10;
  SgdRecipe sgd;  // FT's
  void visit(OptionVisitor& v) {
    v("clean_fraction", clean_fraction, "clean extra set size / training set size");
    v("max_acc_drop", max_acc_drop, "stop before the clean-set accuracy falls below (1 - this) x the unpruned model's");
    v("max_prune_ratio", max_prune_ratio, "never prune more than this share of the channels");
    v("epochs", epochs, "fine-tuning epochs after pruning; 0 = prune only");
    sgd.visit(v);
  }
};

class FinePruning final : public Defense {
 public:
  explicit FinePruning(const FinePruningOptions& options);  // ConfigError on bad options
  std::string name() const override { return "fp"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  double estimated_image_epochs(const WorkSize& size) const override;
  // steps: one row per pruning trial: pruned (channels), acc (clean extra set); `selected` stays
  // undefined. ConfigError for a model without a last convolutional layer (a TorchScript model).
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  FinePruningOptions options_;
};

// Mean activation of each channel of the last convolutional layer over `data` (float [C]),
// sharded over the group; identical on every rank.
at::Tensor mean_channel_activation(ClassifierImpl& model, const Dataset& data, ProcessGroup& group);

}  // namespace pbe
