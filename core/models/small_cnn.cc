#include "core/models/small_cnn.h"

#include <torch/torch.h>

#include "core/models/registry.h"

namespace pbe {
namespace {
torch::nn::Conv2dOptions conv3x3(int64_t in, int64_t out) {
  return torch::nn::Conv2dOptions(in, out, 3).padding(1);
}
}  // namespace

SmallCnn::SmallCnn(const ModelOptions& o) : options_(o) {
  const int64_t w = o.width > 0 ? o.width : 32;
  normalize_ = register_module("normalize", Normalize(o.mean, o.std));
  conv1_ = register_module("conv1", torch::nn::Conv2d(conv3x3(o.in_channels, w)));
  conv2_ = register_module("conv2", torch::nn::Conv2d(conv3x3(w, w)));
  conv3_ = register_module("conv3", torch::nn::Conv2d(conv3x3(w, 2 * w)));
  conv4_ = register_module("conv4", torch::nn::Conv2d(conv3x3(2 * w, 2 * w)));
  const int64_t spatial = (o.image_size / 2) / 2;
  last_conv_mask_ = register_buffer("last_conv_mask", torch::ones({2 * w}));
  fc_ = register_module("fc", torch::nn::Linear(2 * w * spatial * spatial, 128));
  out_ = register_module("out", torch::nn::Linear(128, o.num_classes));
  // He initialisation: with PyTorch's default (kaiming_uniform, a = sqrt(5)) the signal shrinks
  // ~3x per layer in this BN-free stack and SGD sits on the initial plateau for epochs.
  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanIn, torch::kReLU);
      conv->bias.zero_();
    } else if (auto* linear = module->as<torch::nn::Linear>()) {
      torch::nn::init::kaiming_normal_(linear->weight, 0.0, torch::kFanIn, torch::kReLU);
      linear->bias.zero_();
    }
  }
}

std::vector<torch::Tensor> SmallCnn::conv_stages(const torch::Tensor& images) {
  std::vector<torch::Tensor> s;
  s.push_back(torch::relu(conv2_(torch::relu(conv1_(normalize_(images))))));
  s.push_back(torch::relu(conv3_(torch::max_pool2d(s.back(), 2))));
  s.push_back(torch::relu(conv4_(s.back())) * last_conv_mask_.view({1, -1, 1, 1}));
  return s;
}

torch::Tensor SmallCnn::pooled_features(const torch::Tensor& maps) {
  return torch::relu(fc_(torch::max_pool2d(maps, 2).flatten(1)));
}

SmallCnn::Staged SmallCnn::forward_stages(const torch::Tensor& images) {
  Staged s;
  s.stages = conv_stages(images);
  s.logits = head(pooled_features(s.stages.back()));
  return s;
}

torch::Tensor SmallCnn::last_conv_maps(const torch::Tensor& images) { return conv_stages(images).back(); }

torch::Tensor SmallCnn::features(const torch::Tensor& images) { return pooled_features(last_conv_maps(images)); }

std::shared_ptr<ClassifierImpl> SmallCnn::replicate() { return clone_model(*this, options_); }

torch::Tensor SmallCnn::head(const torch::Tensor& features) { return out_(features); }

PBE_REGISTER_MODEL(SmallCnn, "small-cnn",
                   "Four 3x3 convolutions in two pooled blocks, FC-128 and the classifier; no batch norm "
                   "(rank-count independent training); width 32")

}  // namespace pbe
