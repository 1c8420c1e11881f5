#include "core/data/augmentation.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "core/errors.h"

namespace pbe {

Augmentation pbe_release_augmentation() {
  Augmentation a;
  a.crop_padding = 5;
  a.crop_probability = 0.8;
  a.rotation_degrees = 10;
  a.rotation_probability = 0.5;
  a.horizontal_flip = true;
  return a;
}

void check_augmentation(const Augmentation& a, const std::string& owner) {
  if (a.crop_padding < 0) throw ConfigError(owner + ": crop_padding must be >= 0");
  for (double p : {a.crop_probability, a.rotation_probability})
    if (!(p >= 0 && p <= 1))
      throw ConfigError(owner + ": crop_probability and rotation_probability must be in [0, 1]");
  if (!(a.rotation_degrees >= 0 && a.rotation_degrees <= 180))
    throw ConfigError(owner + ": rotation_degrees must be in [0, 180]");
}

AugmentationDraws AugmentationDraws::slice(int64_t begin, int64_t end) const {
  return {dy.slice(0, begin, end), dx.slice(0, begin, end), flip.slice(0, begin, end),
          crop.slice(0, begin, end), angle.slice(0, begin, end)};
}

AugmentationDraws draw_augmentation(const Augmentation& aug, int64_t batch, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  int64_t span = 2 * int64_t{aug.crop_padding} + 1;
  AugmentationDraws d;
  d.dy = torch::randint(span, {batch}, gen, torch::kLong);
  d.dx = torch::randint(span, {batch}, gen, torch::kLong);
  d.flip = torch::randint(2, {batch}, gen, torch::kLong).to(torch::kBool);
  // Drawn after the original three, so a crop/flip-only augmentation draws what it always drew.
  d.crop = torch::rand({batch}, gen).lt(aug.crop_probability);
  const double max_angle = aug.rotation_degrees * M_PI / 180.0;
  d.angle = (torch::rand({batch}, gen) * 2 - 1) * max_angle;
  d.angle.mul_(torch::rand({batch}, gen).lt(aug.rotation_probability).to(torch::kFloat));
  return d;
}

at::Tensor apply_augmentation(const at::Tensor& images, const Augmentation& aug,
                              const AugmentationDraws& draws) {
  if (!aug.enabled()) return images;
  at::Tensor out = images;
  const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
  if (aug.crop_padding > 0) {
    const int64_t p = aug.crop_padding;
    auto padded = torch::constant_pad_nd(images, {p, p, p, p}, 0.0);
    out = torch::empty_like(images);
    auto dy = draws.dy.accessor<int64_t, 1>();
    auto dx = draws.dx.accessor<int64_t, 1>();
    auto crop = draws.crop.accessor<bool, 1>();
    for (int64_t i = 0; i < n; ++i)
      out[i].copy_(crop[i] ? padded[i].narrow(1, dy[i], h).narrow(2, dx[i], w) : images[i]);
  }
  const auto rotated = draws.angle.ne(0).nonzero().squeeze(1);
  if (aug.rotation_degrees > 0 && rotated.numel() > 0) {
    // About the image centre, bilinear, zeros outside (torchvision's RandomRotation fills 0).
    namespace F = torch::nn::functional;
    auto angle = draws.angle.index_select(0, rotated);
    auto cos = angle.cos(), sin = angle.sin(), zero = torch::zeros_like(cos);
    auto theta = torch::stack({torch::stack({cos, -sin, zero}, 1), torch::stack({sin, cos, zero}, 1)}, 1);
    auto subset = out.index_select(0, rotated);
    auto grid = F::affine_grid(theta.to(out.dtype()), subset.sizes().vec(), false);
    const auto bilinear_zeros =
        F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false);
    auto turned = F::grid_sample(subset, grid, bilinear_zeros);
    if (out.is_same(images)) out = images.clone();
    out.index_copy_(0, rotated, turned);
  }
  if (aug.horizontal_flip) {
    auto idx = draws.flip.nonzero().squeeze(1);
    if (idx.numel() > 0) {
      if (out.is_same(images)) out = images.clone();
      out.index_copy_(0, idx, out.index_select(0, idx).flip({3}));
    }
  }
  return out;
}

}  // namespace pbe
