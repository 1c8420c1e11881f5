#include "core/attacks/wanet.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "core/attacks/registry.h"
#include "core/errors.h"

namespace pbe {

namespace F = torch::nn::functional;

at::Tensor identity_grid(int64_t h, int64_t w) {
  auto ys = torch::linspace(-1, 1, h), xs = torch::linspace(-1, 1, w);
  auto mesh = torch::meshgrid({ys, xs}, "ij");
  return torch::stack({mesh[1], mesh[0]}, 2).unsqueeze(0);
}

at::Tensor warp(const at::Tensor& images, const at::Tensor& grid) {
  auto g = grid.size(0) == images.size(0) ? grid : grid.expand({images.size(0), -1, -1, -1});
  return F::grid_sample(images, g, F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(true));
}

WaNet::WaNet(const WaNetOptions& o, const ImageShape& shape)
    : PoisonLabelAttack("wanet", o, shape, /*clean_label=*/false), options_(o) {
  if (o.k < 2) throw ConfigError("wanet: k must be >= 2");
  if (o.k > std::min(shape.height, shape.width)) throw ConfigError("wanet: k larger than the image");
  if (!(o.s >= 0)) throw ConfigError("wanet: s must be >= 0");
  if (!(o.grid_rescale > 0)) throw ConfigError("wanet: grid_rescale must be > 0");
  if (!(o.cross_ratio >= 0)) throw ConfigError("wanet: cross_ratio must be >= 0");
  auto gen = at::detail::createCPUGenerator(o.trigger_seed);
  auto ins = at::rand({1, 2, o.k, o.k}, gen, torch::kFloat) * 2 - 1;
  ins = ins / ins.abs().mean();
  auto noise = F::interpolate(ins, F::InterpolateFuncOptions()
                                       .size(std::vector<int64_t>{shape.height, shape.width})
                                       .mode(torch::kBicubic)
                                       .align_corners(true))
                   .permute({0, 2, 3, 1});
  grid_ = ((identity_grid(shape.height, shape.width) + o.s * noise / static_cast<double>(shape.height)) *
           o.grid_rescale)
              .clamp(-1, 1)
              .contiguous();
}

at::Tensor WaNet::apply_trigger(const at::Tensor& images) const { return warp(images, grid_); }

PoisonedDataset WaNet::poison(const Dataset& clean, uint64_t seed) const {
  PoisonedDataset out = PoisonLabelAttack::poison(clean, seed);
  // Noise mode: rows not poisoned, the warp plus random per-image noise, true labels kept.
  auto rest = out.poison_mask.logical_not().nonzero().squeeze(1);
  const auto count = std::min<int64_t>(
      rest.numel(), std::llround(options_.cross_ratio * out.poison_mask.sum().item<double>()));
  if (count == 0) return out;
  auto perm = seeded_permutation(rest.numel(), seed ^ 0x5bd1e995ULL).narrow(0, 0, count);
  auto rows = std::get<0>(rest.index_select(0, perm).sort());
  auto gen = at::detail::createCPUGenerator(seed ^ 0x27d4eb2fULL);
  auto jitter = (at::rand({count, clean.height(), clean.width(), 2}, gen, torch::kFloat) * 2 - 1) /
                static_cast<double>(clean.height());
  auto grids = (grid_ + jitter).clamp(-1, 1);
  auto images = warp(to_float(clean.images.index_select(0, rows)), grids);
  out.data.images.index_copy_(0, rows, to_uint8(images));
  return out;
}

NamedTensors WaNet::artifacts(int64_t, int64_t, int64_t) const { return {{"warp_grid", grid_[0]}}; }

PBE_REGISTER_ATTACK(WaNet, WaNetOptions, "wanet",
                    "WaNet (Nguyen & Tran 2021): an imperceptible warp, with noise-mode rows")

}  // namespace pbe
