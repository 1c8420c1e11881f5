#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "core/options.h"

namespace pbe {

// Training-time augmentation on float images in [0, 1], in this order: random crop, rotation,
// horizontal flip (torchvision's RandomApply(RandomCrop, p), RandomApply(RandomRotation, p),
// RandomHorizontalFlip, as the PBE release uses them).
struct Augmentation {
  int crop_padding = 0;
  bool horizontal_flip = false;
  double crop_probability = 1.0;
  double rotation_degrees = 0;
  double rotation_probability = 1.0;
  bool enabled() const { return crop_padding > 0 || rotation_degrees > 0 || horizontal_flip; }
  void visit(OptionVisitor& v) {
    v("crop_padding", crop_padding, "random crop after zero padding by this many pixels; 0 = off");
    v("crop_probability", crop_probability, "of cropping a given image");
    v("rotation_degrees", rotation_degrees, "rotate by a uniform angle in [-this, this]; 0 = off");
    v("rotation_probability", rotation_probability, "of rotating a given image");
    v("horizontal_flip", horizontal_flip, "flip with probability 1/2");
  }
};

// The PBE release's augmentation before PGD: crop with padding 5 (p 0.8), rotation +-10 degrees
// (p 0.5), horizontal flip.
Augmentation pbe_release_augmentation();
// Throws ConfigError "<owner>: ..." for a negative padding, a probability outside [0, 1] or a
// rotation outside [0, 180] degrees.
void check_augmentation(const Augmentation& augmentation, const std::string& owner);

// Per-sample random draws for a batch, made once per global batch so every rank's shard gets the
// draws it would get on one rank (rank-count-independent training).
struct AugmentationDraws {
  at::Tensor dy, dx;  // int64 [B] crop offsets in [0, 2 * padding]
  at::Tensor flip;    // bool [B]
  at::Tensor crop;    // bool [B]: this image is cropped
  at::Tensor angle;   // float [B]: rotation in radians (0 = none)
  AugmentationDraws slice(int64_t begin, int64_t end) const;
};

AugmentationDraws draw_augmentation(const Augmentation& aug, int64_t batch, uint64_t seed);
at::Tensor apply_augmentation(const at::Tensor& images, const Augmentation& aug,
                              const AugmentationDraws& draws);

}  // namespace pbe
