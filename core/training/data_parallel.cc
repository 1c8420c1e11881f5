#include "core/training/data_parallel.h"

namespace pbe {

std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int size) {
  const int64_t base = n / size, extra = n % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

namespace {

// Rank 0's value of each tensor, one broadcast each (for the few non-float buffers, e.g.
// BatchNorm's int64 num_batches_tracked).
void broadcast_each(const std::vector<torch::Tensor>& tensors, ProcessGroup& group) {
  for (const auto& t : tensors) {
    auto c = t.contiguous().clone();
    group.broadcast(c, 0);
    t.copy_(c);
  }
}

}  // namespace

void broadcast_model(torch::nn::Module& model, ProcessGroup& group) {
  if (group.size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> state;
  for (auto& p : model.parameters()) state.push_back(p);
  for (auto& b : model.buffers()) state.push_back(b);
  std::vector<torch::Tensor> float_state, other_state;
  for (auto& t : state) (t.scalar_type() == torch::kFloat ? float_state : other_state).push_back(t);
  if (!float_state.empty()) {
    std::vector<torch::Tensor> views;
    for (auto& t : float_state) views.push_back(t.reshape(-1));
    auto flat = torch::cat(views);
    group.broadcast(flat, 0);
    int64_t offset = 0;
    for (auto& t : float_state) {
      t.copy_(flat.narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }
  broadcast_each(other_state, group);
}

void average_buffers(torch::nn::Module& model, ProcessGroup& group) {
  if (group.size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> floating, other;
  for (auto& b : model.buffers()) (b.is_floating_point() ? floating : other).push_back(b);
  if (!floating.empty()) {
    const auto sums = allreduce_sum(floating, floating, group);
    for (size_t i = 0; i < floating.size(); ++i) floating[i].copy_(sums[i] / static_cast<double>(group.size()));
  }
  broadcast_each(other, group);
}

std::vector<at::Tensor> allreduce_sum(const std::vector<at::Tensor>& parts, const std::vector<at::Tensor>& like,
                                      ProcessGroup& group) {
  std::vector<torch::Tensor> views;
  views.reserve(parts.size());
  for (size_t i = 0; i < parts.size(); ++i)
    views.push_back(parts[i].defined() ? parts[i].reshape(-1) : torch::zeros({like[i].numel()}, like[i].options()));
  auto flat = torch::cat(views);
  group.allreduce(flat, ReduceOp::kSum);
  std::vector<at::Tensor> sums;
  int64_t offset = 0;
  for (const auto& t : like) {
    sums.push_back(flat.narrow(0, offset, t.numel()).view_as(t));
    offset += t.numel();
  }
  return sums;
}

void allreduce_gradients(torch::nn::Module& model, ProcessGroup& group) {
  if (group.size() == 1) return;
  auto params = model.parameters();
  std::vector<at::Tensor> grads;
  for (auto& p : params) grads.push_back(p.grad());
  const auto sums = allreduce_sum(grads, params, group);
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].grad().defined()) params[i].mutable_grad().copy_(sums[i]);
    else params[i].mutable_grad() = sums[i].clone();
  }
}

}  // namespace pbe
