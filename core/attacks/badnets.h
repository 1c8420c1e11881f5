#pragma once
#include <string>

#include "core/attacks/attack.h"
#include "core/attacks/patch.h"

namespace pbe {

// BadNets (Gu et al. 2017) with the PBE paper's trigger: a 3x3 black/white checkerboard stamped
// in the bottom-right corner of a poison_rate fraction of the training set, labels flipped.
struct BadNetsOptions : PoisonOptions {
  std::string pattern = "checkerboard";
  int size = 3;
  PatchPlacement placement;
  double amplitude = 1.0;  // lc's reduced amplitude (Turner et al.); 1 stamps the patch (Gu et al.)
  void visit(OptionVisitor& v) {
    PoisonOptions::visit(v);
    v("pattern", pattern, "checkerboard (black/white) or square (all white)");
    v("size", size, "patch side in pixels");
    placement.visit(v);
    v("amplitude", amplitude, "the trigger's contrast: amplitude * patch + (1 - amplitude) * image, in (0, 1]");
  }
};

class BadNets final : public PoisonLabelAttack {
 public:
  BadNets(const BadNetsOptions& options, const ImageShape& shape);
  std::string name() const override { return "badnets"; }
  const BadNetsOptions& options() const { return options_; }
  at::Tensor apply_trigger(const at::Tensor& images) const override;
  NamedTensors artifacts(int64_t channels, int64_t height, int64_t width) const override;
  // The patch for images of this shape: pattern [C, H, W] and its footprint [H, W] (0/1; the
  // trigger blends it in at options().amplitude).
  at::Tensor pattern(int64_t channels, int64_t height, int64_t width) const;
  at::Tensor mask(int64_t height, int64_t width) const;

 private:
  BadNetsOptions options_;
};

}  // namespace pbe
