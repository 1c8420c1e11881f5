#include "core/data/synthetic.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/data/dataset_source.h"
#include "core/data/registry.h"

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

namespace {

const bool registered = DatasetRegistry::instance().add([] {
  DatasetPlugin d;
  d.name = "synthetic";
  d.summary = "Generated, seeded, learnable in one epoch (the tests' data): `dataset.synthetic` sets "
              "classes, channels, size, train, test, noise and seed; the shape below is the default";
  d.shape = [](const DatasetOptions& o) {
    return ImageShape{o.synthetic.channels, o.synthetic.size, o.synthetic.size, o.synthetic.num_classes};
  };
  d.info = [](int channels) {
    return DatasetInfo{std::vector<double>(channels, 0.5), std::vector<double>(channels, 0.25), Augmentation{}};
  };
  d.reads_files = false;
  d.load = [](const std::string&, const DatasetOptions& o) { return make_synthetic(o.synthetic); };
  return d;
}());

}  // namespace

}  // namespace pbe
