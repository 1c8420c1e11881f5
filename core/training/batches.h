#pragma once
// The batches of one data-parallel epoch: a seeded order of the rows, cut into global batches,
// each split over the group's ranks. What the trainer and training loops of their own (the
// Input-aware attack) iterate, so every loop shards and augments the same way.
#include <ATen/core/Tensor.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <utility>

#include "core/data/augmentation.h"
#include "core/data/dataset.h"
#include "distributed/process_group.h"

namespace pbe {

// One global batch as this rank sees it.
struct LocalBatch {
  int64_t begin = 0;   // Position of the global batch in the epoch order.
  int64_t global = 0;  // Rows in the global batch.
  int64_t lo = 0, hi = 0;  // This rank's share: global positions [lo, hi) of the batch.
  at::Tensor x, y;     // Its float images (augmented) and labels on the batches' device; undefined
                       // when the share is empty.
  bool empty() const { return hi == lo; }
  // Local [begin, end) of this rank's rows whose global batch position lies in [from, to).
  std::pair<int64_t, int64_t> local(int64_t from, int64_t to) const;
};

class EpochBatches {
 public:
  // The order is seeded_permutation(N, mix_seed(seed, epoch)); batch b's augmentation is drawn
  // for the whole global batch from mix_seed(seed, epoch, b + 1), so the result does not depend
  // on the rank count. Batches are cut and augmented on the CPU and handed out on `device` (the
  // model's).
  EpochBatches(const Dataset& data, int64_t batch_size, const Augmentation& augmentation,
               ProcessGroup& group, uint64_t seed, int epoch, torch::Device device = torch::kCPU);
  int64_t count() const;
  LocalBatch get(int64_t b) const;

 private:
  const Dataset& data_;
  int64_t batch_size_;
  Augmentation augmentation_;
  ProcessGroup& group_;
  uint64_t seed_;
  int epoch_;
  torch::Device device_;
  at::Tensor order_;
};

// `t` (on the CPU) on `device`; to a GPU through pinned memory, without waiting for the copy.
at::Tensor to_device(const at::Tensor& t, torch::Device device);

// Sets every parameter group's learning rate (SGD, Adam, ...).
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace pbe
