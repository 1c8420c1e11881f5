#pragma once
#include "core/defenses/defense.h"

namespace pbe {

// NC, Neural Cleanse (Wang et al. 2019). For every class t, reverse-engineer the smallest trigger
// that sends clean images to t: a mask m [H, W] and a pattern p [C, H, W] (both through tanh into
// [0, 1]) minimising CE(f((1 - m) x + m p), t) + cost * |m|_1, with the reference's cost schedule
// (cost 0 until the trigger works, then init_cost, raised or lowered after `patience` epochs above
// or below the success threshold) and early stopping. The smallest mask that reaches the success
// threshold is the class's trigger; its L1 norm is the class's score. Classes whose norm lies
// below the median with an anomaly index (MAD, consistency 1.4826) above anomaly_threshold are
// flagged as targets. Unlearning: unlearn_fraction of the clean extra set gets a flagged class's
// reversed trigger with its true label kept, and the model is fine-tuned on that set. Nothing
// flagged: the model is left as it is.
// Classes are spread over the ranks (one rank reverses each class), so the triggers, and the
// model, do not depend on the rank count.
// Defaults: the reference's (bolunwang/backdoor) optimiser (Adam lr 0.1, betas 0.5/0.9, batch
// 32, random initial trigger), init_cost 1e-3 reached from 0, success threshold 0.99, patience 5,
// multiplier 2 (down by 2^1.5), early stop after 25 epochs without a smaller mask, anomaly index 2;
// BackdoorBench's 80 epochs per class and its unlearning set (20% stamped, labels kept; the
// reference has no unlearning code), fine-tuned with FT's recipe and epochs.
struct NeuralCleanseOptions {
  double clean_fraction = 0.05;
  int epochs = 80;
  int64_t batch_size = 32;
  double lr = 0.1;
  double init_cost = 1e-3;
  double attack_success_threshold = 0.99;
  int patience = 5;
  double cost_multiplier = 2.0;
  int early_stop_patience = 25;
  double anomaly_threshold = 2.0;
  double unlearn_fraction = 0.2;
  int unlearn_epochs = 10;
  SgdRecipe sgd;  // FT's
  void visit(OptionVisitor& v) {
    v("clean_fraction", clean_fraction, "clean extra set size / training set size");
    v("epochs", epochs, "passes over the clean set per class (upper bound)");
    v("trigger_batch_size", batch_size, "batch of the trigger reversal (Adam)");
    v("trigger_lr", lr, "Adam learning rate of the trigger reversal");
    v("init_cost", init_cost, "weight of the mask's L1 norm once the trigger works");
    v("attack_success_threshold", attack_success_threshold, "share of clean images sent to the class that counts as working");
    v("patience", patience, "epochs above or below the threshold before the cost changes");
    v("cost_multiplier", cost_multiplier, "factor the cost goes up by (down by its 1.5th power)");
    v("early_stop_patience", early_stop_patience, "epochs without a smaller mask before stopping; 0 = never");
    v("anomaly_threshold", anomaly_threshold, "anomaly index (MAD) above which a class is flagged");
    v("unlearn_fraction", unlearn_fraction, "share of the clean extra set stamped with a flagged trigger for unlearning");
    v("unlearn_epochs", unlearn_epochs, "unlearning fine-tuning epochs");
    sgd.visit(v);  // the unlearning
  }
};

// A class's reverse-engineered trigger.
struct ReversedTrigger {
  at::Tensor mask;     // float [H, W] in [0, 1], on the CPU
  at::Tensor pattern;  // float [C, H, W] in [0, 1], on the CPU
  double norm = 0;     // L1 norm of the mask
  double attack_success = 0;  // Share of the clean set the trigger sent to the class (last epoch it was best)
  int epochs = 0;      // Epochs run (early stopping ends sooner)
};

class NeuralCleanse final : public Defense {
 public:
  explicit NeuralCleanse(const NeuralCleanseOptions& options);  // ConfigError on bad options
  std::string name() const override { return "nc"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  double estimated_image_epochs(const WorkSize& size) const override;
  // steps: one row per class: class, norm, anomaly_index, flagged (0/1), attack_success, epochs.
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  NeuralCleanseOptions options_;
};

// Reverses the trigger of class `target` on `clean` (one process; the model is not changed).
// `on_epoch` (may be empty) is told after each epoch how many images it has processed.
ReversedTrigger reverse_trigger(ClassifierImpl& model, const Dataset& clean, int64_t target,
                                const NeuralCleanseOptions& options, uint64_t seed,
                                const std::function<void(int64_t images)>& on_epoch = {});

// MAD anomaly index of each value: |x - median| / (1.4826 * median(|x - median|)), the medians
// averaging the two middle values of an even count. float [K] in, float [K] out.
at::Tensor anomaly_indices(const at::Tensor& values);

}  // namespace pbe
