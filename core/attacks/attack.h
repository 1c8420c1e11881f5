#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "core/data/dataset.h"

namespace pbe {

// all-to-one: every poisoned sample goes to `target`; all-to-all: y -> (y + 1) mod C.
enum class TargetMode { kAllToOne, kAllToAll };

// The training set as the attacker left it, and which rows were poisoned (the evaluator's
// knowledge: defenses never see `poison_mask`).
struct PoisonedDataset {
  Dataset data;
  at::Tensor poison_mask;  // bool [N]
};

// A backdoor attack: poisons a training set and triggers test images.
class Attack {
 public:
  virtual ~Attack() = default;
  virtual std::string name() const = 0;
  // True for the clean model row ("none"): no trigger, no ASR.
  virtual bool is_clean() const { return false; }
  // Poisons a copy of `clean_train`; the same seed gives the same poisoned set on every rank.
  virtual PoisonedDataset poison(const Dataset& clean_train, uint64_t seed) const = 0;
  // The trigger applied to float images in [0, 1], [N, C, H, W].
  virtual at::Tensor apply_trigger(const at::Tensor& images) const = 0;
  // The label the attacker wants for each true label (int64 [N]).
  virtual at::Tensor target_labels(const at::Tensor& true_labels, int num_classes) const = 0;
  // Which test samples count for ASR/RA (bool [N]): all-to-one excludes the target class.
  virtual at::Tensor asr_mask(const at::Tensor& true_labels) const = 0;
  // The trigger as images for the results file: pattern [C, H, W] and mask [H, W] in [0, 1].
  virtual at::Tensor trigger_pattern(int64_t channels, int64_t height, int64_t width) const = 0;
  virtual at::Tensor trigger_mask(int64_t height, int64_t width) const = 0;
};

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
  at::Tensor trigger_pattern(int64_t c, int64_t h, int64_t w) const override;
  at::Tensor trigger_mask(int64_t h, int64_t w) const override;
};

}  // namespace pbe
