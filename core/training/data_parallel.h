#pragma once
#include <torch/nn/module.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "distributed/process_group.h"

namespace pbe {

// [begin, end) of this rank's contiguous share of n items; shares differ by at most one item.
std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int size);

// Every rank starts from rank 0's parameters and buffers.
void broadcast_model(torch::nn::Module& model, ProcessGroup& group);

// Makes every rank's buffers equal after a stretch of data-parallel training: floating buffers
// (BatchNorm's running mean and variance, which each rank updates from its own share of every
// batch) become their mean over the ranks, the others (num_batches_tracked) rank 0's. Without it
// the ranks would hold different models, and a sharded evaluation would depend on which rank saw
// which image. Parameters are equal already (same gradients, same steps).
void average_buffers(torch::nn::Module& model, ProcessGroup& group);

// Sums tensors over the group through one flat buffer: part i (undefined = zeros shaped like
// like[i]) comes back summed, shaped like like[i], as a view of that buffer (clone() it to keep
// it as a gradient: optimisers detach gradients in place).
std::vector<at::Tensor> allreduce_sum(const std::vector<at::Tensor>& parts, const std::vector<at::Tensor>& like,
                                      ProcessGroup& group);

// Sums every parameter's gradient over the group (allreduce_sum; a missing gradient counts as
// zero). Callers scale their local loss so that the sum is the global mean.
void allreduce_gradients(torch::nn::Module& model, ProcessGroup& group);

}  // namespace pbe
