#pragma once
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "core/models/classifier.h"
#include "core/models/normalize.h"

namespace pbe {

// Four 3x3 convolutions in two pooled blocks, then FC-128 and the classifier. No batch norm and
// no dropout, so data-parallel training is exactly rank-count independent.
class SmallCnn final : public ClassifierImpl {
 public:
  explicit SmallCnn(const ModelOptions& options);
  torch::Tensor features(const torch::Tensor& images) override;
  torch::Tensor head(const torch::Tensor& features) override;
  LinearHead linear_head() override { return {out_->weight, out_->bias}; }
  torch::Tensor last_conv_maps(const torch::Tensor& images) override;
  torch::Tensor last_conv_mask() override { return last_conv_mask_; }
  // Stages: the first block's output (after conv2), conv3's and conv4's (the last conv maps).
  Staged forward_stages(const torch::Tensor& images) override;
  std::shared_ptr<ClassifierImpl> replicate() override;

 private:
  // conv1-2 (block 1), conv3, conv4 masked: the three stages; the last is last_conv_maps().
  std::vector<torch::Tensor> conv_stages(const torch::Tensor& images);
  torch::Tensor pooled_features(const torch::Tensor& last_maps);  // pool, FC-128, ReLU
  ModelOptions options_;
  Normalize normalize_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, conv4_{nullptr};
  torch::nn::Linear fc_{nullptr}, out_{nullptr};
  torch::Tensor last_conv_mask_;  // conv4's channels
};

}  // namespace pbe
