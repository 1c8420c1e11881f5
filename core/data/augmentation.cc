#include "core/data/augmentation.h"

#include <ATen/CPUGeneratorImpl.h>

namespace pbe {

AugmentationDraws AugmentationDraws::slice(int64_t begin, int64_t end) const {
  return {dy.slice(0, begin, end), dx.slice(0, begin, end), flip.slice(0, begin, end)};
}

AugmentationDraws draw_augmentation(const Augmentation& aug, int64_t batch, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  int64_t span = 2 * int64_t{aug.crop_padding} + 1;
  AugmentationDraws d;
  d.dy = torch::randint(span, {batch}, gen, torch::kLong);
  d.dx = torch::randint(span, {batch}, gen, torch::kLong);
  d.flip = torch::randint(2, {batch}, gen, torch::kLong).to(torch::kBool);
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
    for (int64_t i = 0; i < n; ++i)
      out[i].copy_(padded[i].narrow(1, dy[i], h).narrow(2, dx[i], w));
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
