#include "core/models/normalize.h"

#include <torch/torch.h>

namespace pbe {

NormalizeImpl::NormalizeImpl(const std::vector<double>& mean, const std::vector<double>& std) {
  auto shape = std::vector<int64_t>{1, static_cast<int64_t>(mean.size()), 1, 1};
  mean_ = register_buffer("mean", torch::tensor(mean, torch::kFloat).reshape(shape));
  std_ = register_buffer("std", torch::tensor(std, torch::kFloat).reshape(shape));
}

torch::Tensor NormalizeImpl::forward(const torch::Tensor& x) { return (x - mean_) / std_; }

}  // namespace pbe
