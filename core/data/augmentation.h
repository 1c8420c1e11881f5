#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace pbe {

// Training-time augmentation on float images in [0, 1].
struct Augmentation {
  int crop_padding = 0;          // Random crop after zero padding by this many pixels; 0 = off.
  bool horizontal_flip = false;  // Flip with probability 1/2.
  bool enabled() const { return crop_padding > 0 || horizontal_flip; }
};

// Per-sample random draws for a batch, made once per global batch so every rank's shard gets the
// draws it would get on one rank (rank-count-independent training).
struct AugmentationDraws {
  at::Tensor dy, dx;  // int64 [B] crop offsets in [0, 2 * padding]
  at::Tensor flip;    // bool [B]
  AugmentationDraws slice(int64_t begin, int64_t end) const;
};

AugmentationDraws draw_augmentation(const Augmentation& aug, int64_t batch, uint64_t seed);
at::Tensor apply_augmentation(const at::Tensor& images, const Augmentation& aug,
                              const AugmentationDraws& draws);

}  // namespace pbe
