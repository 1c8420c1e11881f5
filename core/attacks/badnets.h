#pragma once
#include <string>

#include "core/attacks/attack.h"

namespace pbe {

// BadNets (Gu et al. 2017) with the PBE paper's trigger: a 3x3 black/white checkerboard stamped
// in the bottom-right corner of a poison_rate fraction of the training set, labels flipped.
struct BadNetsOptions {
  double poison_rate = 0.1;          // Fraction of the WHOLE training set poisoned. Default: 0.1
  int target = 0;                    // all-to-one target label. Default: 0
  TargetMode mode = TargetMode::kAllToOne;
  std::string pattern = "checkerboard";  // checkerboard | square (all white)
  int size = 3;                      // Patch side in pixels. Default: 3
  std::string position = "bottom-right";  // bottom-right | bottom-left | top-right | top-left
  int margin = 0;                    // Pixels between the patch and the image border. Default: 0
};

class BadNets final : public Attack {
 public:
  BadNets(const BadNetsOptions& options, int num_classes);
  std::string name() const override { return "badnets"; }
  const BadNetsOptions& options() const { return options_; }
  PoisonedDataset poison(const Dataset& clean_train, uint64_t seed) const override;
  at::Tensor apply_trigger(const at::Tensor& images) const override;
  at::Tensor target_labels(const at::Tensor& true_labels, int num_classes) const override;
  at::Tensor asr_mask(const at::Tensor& true_labels) const override;
  at::Tensor trigger_pattern(int64_t channels, int64_t height, int64_t width) const override;
  at::Tensor trigger_mask(int64_t height, int64_t width) const override;

 private:
  // Top-left corner of the patch in an image of the given size.
  std::pair<int64_t, int64_t> origin(int64_t height, int64_t width) const;
  BadNetsOptions options_;
};

}  // namespace pbe
