#pragma once
#include <string>

#include "core/attacks/attack.h"

namespace pbe {

// WaNet (Nguyen & Tran 2021, "WaNet - Imperceptible Warping-based Backdoor Attack"): images are
// resampled through a fixed smooth warping field. A k x k grid of random offsets, normalised to
// mean magnitude 1, is upsampled (bicubic) to the image size; the warp grid is
// clamp((identity + s * noise / H) * grid_rescale, -1, 1). Noise mode: cross_ratio x (poisoned
// count) further rows get the warp plus per-image random noise (amplitude 1/H) and keep their
// true labels, so the model learns the exact warp, not any warp.
struct WaNetOptions : PoisonOptions {
  int k = 4;
  double s = 0.5;
  double grid_rescale = 1.0;
  double cross_ratio = 2.0;
  uint64_t trigger_seed = 0;
  void visit(OptionVisitor& v) {
    PoisonOptions::visit(v);
    v("k", k, "side of the warp's control grid");
    v("s", s, "warp strength");
    v("grid_rescale", grid_rescale, "scale of the warped grid");
    v("cross_ratio", cross_ratio, "noise-mode rows (random warps, true labels) per poisoned row; 0 = none");
    v("trigger_seed", trigger_seed, "the warping field's seed, fixed across run seeds");
  }
};

class WaNet final : public PoisonLabelAttack {
 public:
  WaNet(const WaNetOptions& options, const ImageShape& shape);
  std::string name() const override { return "wanet"; }
  // Poisoned rows as PoisonLabelAttack chooses them, then the noise-mode rows from the rest.
  PoisonedDataset poison(const Dataset& clean_train, uint64_t seed) const override;
  at::Tensor apply_trigger(const at::Tensor& images) const override;
  NamedTensors artifacts(int64_t channels, int64_t height, int64_t width) const override;
  const at::Tensor& grid() const { return grid_; }  // [1, H, W, 2], (x, y) in [-1, 1]

 private:
  WaNetOptions options_;
  at::Tensor grid_;
};

// The identity sampling grid of grid_sample (align_corners): [1, H, W, 2] holding (x, y).
at::Tensor identity_grid(int64_t height, int64_t width);
// Bilinear resampling of images [N, C, H, W] through `grid` [1 or N, H, W, 2].
at::Tensor warp(const at::Tensor& images, const at::Tensor& grid);

}  // namespace pbe
