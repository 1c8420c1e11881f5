#include "core/data/synthetic.h"

#include <ATen/CPUGeneratorImpl.h>

namespace pbe {
namespace {

Dataset sample(const at::Tensor& prototypes, int64_t n, double noise, at::Generator& gen,
               int num_classes) {
  Dataset d;
  d.name = "synthetic";
  d.num_classes = num_classes;
  d.labels = torch::randint(num_classes, {n}, gen, torch::kLong);
  auto x = prototypes.index_select(0, d.labels);
  x = x + noise * torch::randn(x.sizes(), gen);
  d.images = to_uint8(x.clamp(0, 1)).contiguous();
  return d;
}

}  // namespace

TrainTest make_synthetic(const SyntheticOptions& o) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  // Smooth prototypes: coarse 4x4 random grids upsampled, spread over [0.1, 0.9].
  auto coarse = torch::rand({o.num_classes, o.channels, 4, 4}, gen);
  auto protos = torch::nn::functional::interpolate(
      coarse, torch::nn::functional::InterpolateFuncOptions()
                  .size(std::vector<int64_t>{o.size, o.size})
                  .mode(torch::kBilinear)
                  .align_corners(false));
  protos = 0.1 + 0.8 * protos;
  TrainTest out;
  out.train = sample(protos, o.train_size, o.noise, gen, o.num_classes);
  out.test = sample(protos, o.test_size, o.noise, gen, o.num_classes);
  return out;
}

}  // namespace pbe
