#pragma once
#include <string>

#include "core/attacks/attack.h"

namespace pbe {

// Blend (Chen et al. 2017, "Targeted Backdoor Attacks on Deep Learning Systems Using Data
// Poisoning"): x' = (1 - alpha) x + alpha t for a fixed trigger image t over the whole image.
struct BlendOptions : PoisonOptions {
  double alpha = 0.1;  // the PBE paper's
  std::string image;   // empty: Chen et al.'s random-pattern trigger
  uint64_t trigger_seed = 0;
  void visit(OptionVisitor& v) {
    PoisonOptions::visit(v);
    v("alpha", alpha, "blend ratio in [0, 1]");
    v("image", image, "the trigger image, a binary PGM/PPM file resized to the dataset's; empty = seeded uniform noise");
    v("trigger_seed", trigger_seed, "the noise trigger's seed, fixed across run seeds");
  }
};

class Blend final : public PoisonLabelAttack {
 public:
  // Loads or draws the trigger; throws ConfigError (bad options) or DataError (bad image file).
  Blend(const BlendOptions& options, const ImageShape& shape);
  std::string name() const override { return "blend"; }
  at::Tensor apply_trigger(const at::Tensor& images) const override;
  NamedTensors artifacts(int64_t channels, int64_t height, int64_t width) const override;
  const at::Tensor& trigger() const { return trigger_; }  // [C, H, W] in [0, 1]

 private:
  BlendOptions options_;
  at::Tensor trigger_;
};

}  // namespace pbe
