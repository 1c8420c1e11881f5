#include "core/training/batches.h"

#include <algorithm>

#include "core/models/autocast.h"
#include "core/random.h"
#include "core/training/data_parallel.h"

namespace pbe {

std::pair<int64_t, int64_t> LocalBatch::local(int64_t from, int64_t to) const {
  const int64_t b = std::clamp(from, lo, hi), e = std::clamp(to, lo, hi);
  return {b - lo, e - lo};
}

EpochBatches::EpochBatches(const Dataset& data, int64_t batch_size, const Augmentation& augmentation,
                           ProcessGroup& group, uint64_t seed, int epoch, torch::Device device)
    : data_(data), batch_size_(batch_size), augmentation_(augmentation), group_(group), seed_(seed),
      epoch_(epoch), device_(device), order_(seeded_permutation(data.size(), mix_seed(seed, epoch))) {}

int64_t EpochBatches::count() const { return (data_.size() + batch_size_ - 1) / batch_size_; }

LocalBatch EpochBatches::get(int64_t b) const {
  LocalBatch s;
  s.begin = b * batch_size_;
  s.global = std::min(batch_size_, data_.size() - s.begin);
  std::tie(s.lo, s.hi) = shard_range(s.global, group_.rank(), group_.size());
  if (s.empty()) return s;
  auto idx = order_.narrow(0, s.begin + s.lo, s.hi - s.lo);
  auto images = data_.images.index_select(0, idx);
  if (augmentation_.enabled()) {
    AutocastOff float32(torch::kCPU);  // the data side stays exact in a bf16 run on the CPU
    auto draws = draw_augmentation(augmentation_, s.global, mix_seed(seed_, epoch_, b + 1));
    s.x = to_device(apply_augmentation(to_float(images), augmentation_, draws.slice(s.lo, s.hi)), device_);
  } else {
    s.x = to_float(to_device(images, device_));  // a quarter of the bytes to copy
  }
  s.y = to_device(data_.labels.index_select(0, idx), device_);
  return s;
}

at::Tensor to_device(const at::Tensor& t, torch::Device device) {
  if (!device.is_cuda()) return t.to(device);
  // From pinned memory the copy is asynchronous: the host goes on queueing work while the GPU
  // computes (PyTorch's caching host allocator keeps the pinned block until the copy has run).
  return t.pin_memory().to(device, /*non_blocking=*/true);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& g : optimizer.param_groups()) g.options().set_lr(lr);
}

}  // namespace pbe
