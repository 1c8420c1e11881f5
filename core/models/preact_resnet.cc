#include "core/models/preact_resnet.h"

#include <torch/torch.h>

#include "core/models/registry.h"

namespace pbe {

PreActBlockImpl::PreActBlockImpl(int64_t in, int64_t out, int64_t stride) {
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(in));
  conv1_ = register_module(
      "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out));
  conv2_ = register_module(
      "conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
  if (stride != 1 || in != out) {
    shortcut_ = register_module(
        "shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
  }
}

torch::Tensor PreActBlockImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1_(x));
  auto skip = shortcut_ ? shortcut_(out) : x;
  out = conv1_(out);
  out = conv2_(torch::relu(bn2_(out)));
  return out + skip;
}

PreActResNet18::PreActResNet18(const ModelOptions& o) : options_(o) {
  const int64_t w = o.width > 0 ? o.width : 64;
  normalize_ = register_module("normalize", Normalize(o.mean, o.std));
  stem_ = register_module(
      "stem", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, w, 3).padding(1).bias(false)));
  torch::nn::Sequential stages;
  int64_t in = w;
  for (int64_t width : {w, 2 * w, 4 * w, 8 * w}) {
    int64_t stride = width == w ? 1 : 2;
    stages->push_back(PreActBlock(in, width, stride));
    stages->push_back(PreActBlock(width, width, 1));
    in = width;
  }
  stages_ = register_module("stages", stages);
  bn_ = register_module("bn", torch::nn::BatchNorm2d(8 * w));
  out_ = register_module("out", torch::nn::Linear(8 * w, o.num_classes));
  last_conv_mask_ = register_buffer("last_conv_mask", torch::ones({8 * w}));
}

torch::Tensor PreActResNet18::final_maps(const torch::Tensor& x) {
  return torch::relu(bn_(x)) * last_conv_mask_.view({1, -1, 1, 1});
}

torch::Tensor PreActResNet18::last_conv_maps(const torch::Tensor& images) {
  return final_maps(stages_->forward(stem_(normalize_(images))));
}

PreActResNet18::Staged PreActResNet18::forward_stages(const torch::Tensor& images) {
  Staged s;
  auto x = stem_(normalize_(images));
  for (size_t i = 0; i < stages_->size(); ++i) {
    x = stages_->ptr(i)->as<PreActBlockImpl>()->forward(x);
    if (i >= 2 && i % 2 == 1) s.stages.push_back(x);  // the end of stages 2, 3 and 4
  }
  s.logits = head(torch::adaptive_avg_pool2d(final_maps(x), {1, 1}).flatten(1));
  return s;
}

std::shared_ptr<ClassifierImpl> PreActResNet18::replicate() { return clone_model(*this, options_); }

torch::Tensor PreActResNet18::features(const torch::Tensor& images) {
  return torch::adaptive_avg_pool2d(last_conv_maps(images), {1, 1}).flatten(1);
}

torch::Tensor PreActResNet18::head(const torch::Tensor& features) { return out_(features); }

PBE_REGISTER_MODEL(PreActResNet18, "preact-resnet18",
                   "Pre-activation ResNet-18 (He et al. 2016) as BackdoorBench and the PBE paper use it: 3x3 stem, "
                   "four stages of two blocks; width 64 (64-128-256-512)")

}  // namespace pbe
