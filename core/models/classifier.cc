#include "core/models/classifier.h"

#include <torch/torch.h>

#include "core/errors.h"
#include "core/models/registry.h"

namespace pbe {

std::vector<std::string> known_models() { return ModelRegistry::instance().names(); }

Classifier make_model(const ModelOptions& o) {
  if (o.in_channels <= 0 || o.num_classes < 2 || o.image_size < 4)
    throw ConfigError("model '" + o.name + "': bad input shape or class count");
  if (static_cast<int>(o.mean.size()) != o.in_channels || o.std.size() != o.mean.size())
    throw ConfigError("model '" + o.name + "': normalisation has " + std::to_string(o.mean.size()) +
                      " channels, input has " + std::to_string(o.in_channels));
  const ModelPlugin* plugin = ModelRegistry::instance().find(o.name);
  if (!plugin) throw ConfigError("unknown model '" + o.name + "'");
  Classifier model = plugin->make(o);
  place_model(*model, o.device, o.channels_last);
  return model;
}

Classifier clone_model(ClassifierImpl& model, const ModelOptions& options) {
  Classifier copy = make_model(options);
  torch::NoGradGuard no_grad;
  auto src_p = model.parameters(), dst_p = copy->parameters();
  auto src_b = model.buffers(), dst_b = copy->buffers();
  TORCH_INTERNAL_ASSERT(src_p.size() == dst_p.size() && src_b.size() == dst_b.size());
  // clone() keeps the device and the strides (channels-last stays channels-last).
  for (size_t i = 0; i < src_p.size(); ++i) dst_p[i].set_data(src_p[i].detach().clone());
  for (size_t i = 0; i < src_b.size(); ++i) dst_b[i].set_data(src_b[i].detach().clone());
  copy->train(model.is_training());
  return copy;
}

torch::Device ClassifierImpl::device() {
  for (const auto& p : parameters()) return p.device();
  for (const auto& b : buffers()) return b.device();
  return torch::kCPU;
}

void place_model(ClassifierImpl& model, torch::Device device, bool channels_last) {
  model.to(device);
  if (!channels_last) return;
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.detach().contiguous(at::MemoryFormat::ChannelsLast));
  for (auto& b : model.buffers())
    if (b.dim() == 4) b.set_data(b.detach().contiguous(at::MemoryFormat::ChannelsLast));
}

std::shared_ptr<ClassifierImpl> ClassifierImpl::replicate() {
  throw ConfigError("model '" + name() + "' cannot be copied");
}

int64_t parameter_count(ClassifierImpl& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

FrozenModel::FrozenModel(ClassifierImpl& model) : model_(model), was_training_(model.is_training()) {
  model.eval();
  for (auto& p : model.parameters()) {
    requires_grad_.push_back(p.requires_grad());
    p.requires_grad_(false);
  }
}

FrozenModel::~FrozenModel() {
  size_t i = 0;
  for (auto& p : model_.parameters()) p.requires_grad_(requires_grad_[i++]);
  model_.train(was_training_);
}

}  // namespace pbe
