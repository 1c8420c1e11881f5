#include "core/data/dataset.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/errors.h"

namespace pbe {

int64_t Dataset::size() const { return labels.defined() ? labels.size(0) : 0; }
int64_t Dataset::channels() const { return images.size(1); }
int64_t Dataset::height() const { return images.size(2); }
ImageShape Dataset::shape() const { return {channels(), height(), width(), num_classes}; }
int64_t Dataset::width() const { return images.size(3); }

Dataset Dataset::subset(const at::Tensor& indices) const {
  Dataset out;
  out.name = name;
  out.num_classes = num_classes;
  out.images = images.index_select(0, indices).contiguous();
  out.labels = labels.index_select(0, indices).contiguous();
  return out;
}

void Dataset::validate(const std::string& origin) const {
  auto fail = [&](const std::string& what) { throw DataError(origin + ": " + what); };
  if (!images.defined() || images.dim() != 4 || images.scalar_type() != torch::kByte)
    fail("images must be uint8 [N, C, H, W]");
  if (!labels.defined() || labels.dim() != 1 || labels.scalar_type() != torch::kLong)
    fail("labels must be int64 [N]");
  if (images.size(0) != labels.size(0))
    fail(std::to_string(images.size(0)) + " images but " + std::to_string(labels.size(0)) +
         " labels");
  if (num_classes <= 1) fail("needs at least 2 classes");
  if (labels.numel() > 0) {
    int64_t lo = labels.min().item<int64_t>(), hi = labels.max().item<int64_t>();
    if (lo < 0 || hi >= num_classes)
      fail("label " + std::to_string(lo < 0 ? lo : hi) + " outside [0, " +
           std::to_string(num_classes) + ")");
  }
}

at::Tensor to_float(const at::Tensor& images_u8) { return images_u8.to(torch::kFloat).div_(255.0); }

at::Tensor to_uint8(const at::Tensor& images_float) {
  return images_float.mul(255.0).round_().clamp_(0, 255).to(torch::kByte);
}

at::Tensor seeded_permutation(int64_t n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong));
}

at::Tensor seeded_sample(int64_t n, int64_t k, uint64_t seed) {
  return std::get<0>(seeded_permutation(n, seed).narrow(0, 0, k).sort());
}

Dataset seeded_subset(const Dataset& d, int64_t k, uint64_t seed) {
  if (k <= 0 || k >= d.size()) return d;
  return d.subset(seeded_sample(d.size(), k, seed));
}

}  // namespace pbe
