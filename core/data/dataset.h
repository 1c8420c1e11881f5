#pragma once
#include <ATen/core/Tensor.h>

#include <string>

namespace pbe {

// The shape of a dataset's images and its class count: what attacks are built for.
struct ImageShape {
  int64_t channels = 1, height = 28, width = 28;
  int num_classes = 10;
};

// An in-memory image-classification set: uint8 pixels, labels in [0, num_classes).
struct Dataset {
  std::string name;
  at::Tensor images;  // uint8 [N, C, H, W], contiguous
  at::Tensor labels;  // int64 [N]
  int num_classes = 0;

  int64_t size() const;
  int64_t channels() const;
  int64_t height() const;
  int64_t width() const;
  ImageShape shape() const;
  // The rows at `indices` (int64), copied.
  Dataset subset(const at::Tensor& indices) const;
  // Throws DataError unless shapes, dtypes and label range are consistent; `origin` names the source.
  void validate(const std::string& origin) const;
};

struct TrainTest {
  Dataset train;
  Dataset test;
};

// Pixels as float in [0, 1]: what models and attacks work on.
at::Tensor to_float(const at::Tensor& images_u8);
// Float [0, 1] back to uint8, rounded.
at::Tensor to_uint8(const at::Tensor& images_float);

// A seeded random permutation of [0, n) (int64), the same on every rank for the same seed.
at::Tensor seeded_permutation(int64_t n, uint64_t seed);
// k distinct rows of [0, n) (int64, sorted): the first k of seeded_permutation(n, seed).
at::Tensor seeded_sample(int64_t n, int64_t k, uint64_t seed);
// The rows seeded_sample() picks from `d`; all of `d` when k <= 0 or k >= d.size().
Dataset seeded_subset(const Dataset& d, int64_t k, uint64_t seed);

}  // namespace pbe
