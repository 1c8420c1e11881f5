#pragma once
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "core/models/classifier.h"
#include "core/models/normalize.h"

namespace pbe {

// Pre-activation ResNet-18 (He et al. 2016) as used by BackdoorBench and the PBE paper:
// 3x3 stem, four stages of two pre-activation basic blocks (64-128-256-512), global average pool.
// Works for any channel count and image size >= 8.
class PreActBlockImpl : public torch::nn::Module {
 public:
  PreActBlockImpl(int64_t in, int64_t out, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
};
TORCH_MODULE(PreActBlock);

class PreActResNet18 final : public ClassifierImpl {
 public:
  explicit PreActResNet18(const ModelOptions& options);
  torch::Tensor features(const torch::Tensor& images) override;
  torch::Tensor head(const torch::Tensor& features) override;
  LinearHead linear_head() override { return {out_->weight, out_->bias}; }
  // The last stage's output after the final BN and ReLU (what is pooled), masked.
  torch::Tensor last_conv_maps(const torch::Tensor& images) override;
  torch::Tensor last_conv_mask() override { return last_conv_mask_; }
  // Stages: the outputs of stages 2, 3 and 4 (NAD's layer2-4), before the final BN.
  Staged forward_stages(const torch::Tensor& images) override;
  std::shared_ptr<ClassifierImpl> replicate() override;

 private:
  torch::Tensor final_maps(const torch::Tensor& last_stage);  // final BN, ReLU, channel mask
  ModelOptions options_;
  Normalize normalize_{nullptr};
  torch::nn::Conv2d stem_{nullptr};
  torch::nn::Sequential stages_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::Linear out_{nullptr};
  torch::Tensor last_conv_mask_;
};

}  // namespace pbe
