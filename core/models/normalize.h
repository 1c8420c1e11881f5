#pragma once
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <vector>

namespace pbe {

// (x - mean) / std per channel, as buffers so they travel with the model's state.
class NormalizeImpl : public torch::nn::Module {
 public:
  NormalizeImpl(const std::vector<double>& mean, const std::vector<double>& std);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::Tensor mean_, std_;
};
TORCH_MODULE(Normalize);

}  // namespace pbe
