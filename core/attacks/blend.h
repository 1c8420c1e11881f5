#pragma once
#include <string>

#include "core/attacks/attack.h"

namespace pbe {

// Blend (Chen et al. 2017, "Targeted Backdoor Attacks on Deep Learning Systems Using Data
// Poisoning"): x' = (1 - alpha) x + alpha t for a fixed trigger image t over the whole image.
struct BlendOptions : PoisonOptions {
  double alpha = 0.1;  // Blend ratio in [0, 1] (the PBE paper's 0.1). Default: 0.1
  // The trigger image: empty = uniform random noise drawn from `trigger_seed` (Chen et al.'s
  // random-pattern trigger); otherwise a binary PGM/PPM file, resized to the dataset's images.
  std::string image;
  uint64_t trigger_seed = 0;  // The noise trigger's seed, fixed across run seeds. Default: 0
};

class Blend final : public PoisonLabelAttack {
 public:
  // Loads or draws the trigger; throws ConfigError (bad options) or DataError (bad image file).
  Blend(const BlendOptions& options, const ImageShape& shape);
  std::string name() const override { return "blend"; }
  at::Tensor apply_trigger(const at::Tensor& images) const override;
  Artifacts artifacts(int64_t channels, int64_t height, int64_t width) const override;
  const at::Tensor& trigger() const { return trigger_; }  // [C, H, W] in [0, 1]

 private:
  BlendOptions options_;
  at::Tensor trigger_;
};

}  // namespace pbe
