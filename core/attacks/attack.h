#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/data/dataset.h"
#include "core/models/classifier.h"
#include "core/named_tensors.h"
#include "core/options.h"
#include "core/training/progress.h"
#include "core/training/trainer.h"
#include "distributed/process_group.h"

namespace pbe {

// all-to-one: every poisoned sample goes to `target`; all-to-all: y -> (y + 1) mod C.
enum class TargetMode { kAllToOne, kAllToAll };
const char* target_mode_name(TargetMode mode);

// What every poisoning attack has: how much it poisons and which label it wants.
struct PoisonOptions {
  double poison_rate = 0.1;
  int target = 0;
  TargetMode mode = TargetMode::kAllToOne;
  void visit(OptionVisitor& v) {
    v("poison_rate", poison_rate, "dirty-label: share of the whole training set poisoned; clean-label: of the target class");
    v("target", target, "the all-to-one target label");
    v.choice("mode", mode, {{"all-to-one", TargetMode::kAllToOne}, {"all-to-all", TargetMode::kAllToAll}},
             "all-to-one (every poisoned row to `target`) or all-to-all (y to y + 1 mod classes)");
  }
};

// The training set as the attacker left it, and which rows were poisoned (the evaluator's
// knowledge: defenses never see `poison_mask`).
struct PoisonedDataset {
  Dataset data;
  at::Tensor poison_mask;  // bool [N]
};

// What an attack may use to build its backdoor in one cell: the clean training set, the victim's
// architecture and training recipe, and the cell's process group (all ranks call together).
struct AttackContext {
  const Dataset& clean_train;
  ModelOptions model;
  TrainOptions training;  // The victim's recipe; training.seed is the cell's training seed.
  ProcessGroup& group;
  uint64_t seed = 0;      // The cell's seed: derive_seed(seed, purpose) for each random stream.
  EvalFn evaluate;        // ACC/ASR of the victim for its per-epoch curve; may be empty.
  ProgressFn progress;
};

// The infected model's training curve and the training set the defender gets.
struct Infection {
  PoisonedDataset poisoned;
  TrainCurve curve;
};


// A backdoor attack. One instance serves one cell: prepare() and infect() may keep state (an
// optimised trigger, a trained generator) that apply_trigger() then uses on test images.
class Attack {
 public:
  virtual ~Attack() = default;
  virtual std::string name() const = 0;
  // True for the clean model row ("none"): no trigger, no ASR.
  virtual bool is_clean() const { return false; }
  // Extra work beyond training the victim, in training-image epochs (for progress and planning).
  virtual double extra_image_epochs(int64_t train_size, int victim_epochs) const { return 0.0; }
  // Builds what poison() needs (a surrogate model, an optimised trigger). Default: nothing.
  virtual void prepare(const AttackContext& context) {}
  // Poisons a copy of `clean_train`; the same seed gives the same poisoned set on every rank.
  virtual PoisonedDataset poison(const Dataset& clean_train, uint64_t seed) const = 0;
  // Trains the victim `model`. Default: poison() the clean set, then train on it as usual.
  // Attacks that control training (Input-aware) override it.
  virtual Infection infect(ClassifierImpl& model, const AttackContext& context);
  // The test-time trigger on float images in [0, 1], [N, C, H, W].
  virtual at::Tensor apply_trigger(const at::Tensor& images) const = 0;
  // The label the attacker wants for each true label (int64 [N]).
  virtual at::Tensor target_labels(const at::Tensor& true_labels, int num_classes) const = 0;
  // Which test samples count for ASR/RA (bool [N]): all-to-one excludes the target class.
  virtual at::Tensor asr_mask(const at::Tensor& true_labels) const = 0;
  // What defines the trigger for images of this shape, for the results file.
  virtual NamedTensors artifacts(int64_t channels, int64_t height, int64_t width) const = 0;
  // What prepare() and infect() learned that poison() and apply_trigger() need (an optimised
  // trigger, generator weights, adversarial images), saved with the infected model's checkpoint
  // so that a resumed run needs neither again. Default: nothing (the options define the trigger).
  virtual NamedTensors state() const { return {}; }
  // Takes back what state() gave; std::runtime_error when something is missing or misshapen.
  virtual void restore(const NamedTensors& state) {}
};

// The tensor named `name` in `state` (Attack::restore's helper); std::runtime_error if absent.
const at::Tensor& state_tensor(const NamedTensors& state, const std::string& name);

// A clean model of the victim's architecture trained with the victim's recipe (for `epochs`
// epochs; 0 = the recipe's) on the clean training set: what LC and TrojanNN attack against.
// `purpose` names its seed stream.
Classifier train_clean_surrogate(const AttackContext& context, int epochs, const std::string& purpose);

// "none": the clean model row of the matrix.
class NoAttack final : public Attack {
 public:
  std::string name() const override { return "none"; }
  bool is_clean() const override { return true; }
  PoisonedDataset poison(const Dataset& clean_train, uint64_t seed) const override;
  at::Tensor apply_trigger(const at::Tensor& images) const override { return images; }
  at::Tensor target_labels(const at::Tensor& true_labels, int num_classes) const override {
    return true_labels;
  }
  at::Tensor asr_mask(const at::Tensor& true_labels) const override;
  NamedTensors artifacts(int64_t, int64_t, int64_t) const override { return {}; }
};

// An attack that poisons with a trigger of its own and a PoisonOptions label rule. Dirty-label:
// poison_rate x N rows whose label would change get the trigger and the target label.
// Clean-label: poison_rate x (target-class rows) get the trigger and keep their label.
class PoisonLabelAttack : public Attack {
 public:
  PoisonedDataset poison(const Dataset& clean_train, uint64_t seed) const override;
  at::Tensor target_labels(const at::Tensor& true_labels, int num_classes) const override;
  at::Tensor asr_mask(const at::Tensor& true_labels) const override;
  const PoisonOptions& poison_options() const { return poison_options_; }
  const ImageShape& shape() const { return shape_; }

 protected:
  // Throws ConfigError naming `attack` when the options do not fit the dataset.
  PoisonLabelAttack(const std::string& attack, const PoisonOptions& options, const ImageShape& shape,
                    bool clean_label);
  // The training-time trigger (default: the test-time one) on float images of training rows
  // `rows` (int64).
  virtual at::Tensor poison_images(const at::Tensor& images, const at::Tensor& rows) const {
    return apply_trigger(images);
  }
  // The rows poison() poisons (int64, sorted), seeded.
  at::Tensor choose_rows(const Dataset& clean_train, uint64_t seed) const;

 private:
  PoisonOptions poison_options_;
  ImageShape shape_;
  bool clean_label_;
};

}  // namespace pbe
