#pragma once
#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

namespace pbe {

// Every model takes float images in [0, 1] and normalises inside, so attacks and adversarial
// examples work in pixel space. features() is the penultimate layer (probes read it).
class ClassifierImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor features(const torch::Tensor& images) = 0;
  virtual torch::Tensor head(const torch::Tensor& features) = 0;
  torch::Tensor forward(const torch::Tensor& images) { return head(features(images)); }
  // Where the model computes: its first parameter's (or buffer's) device; the CPU for none. Callers
  // bring inputs there (data stays on the CPU) and take results back.
  torch::Device device();
  // The last convolutional layer's activations [N, C, H, W], after its channel mask: what a
  // pruning defense (Fine-Pruning) ranks and cuts. Undefined for a model that exposes none.
  virtual torch::Tensor last_conv_maps(const torch::Tensor& images) { return {}; }
  // That layer's channel mask (a float buffer [C], 1 = kept), applied in every forward: writing
  // zeros prunes channels, and the mask travels with the model's state. Undefined if none.
  virtual torch::Tensor last_conv_mask() { return {}; }
  // The logits together with the feature maps of the stages a distillation defense (NAD) matches,
  // shallow to deep, from one forward pass. `stages` is empty for a model that exposes none.
  struct Staged {
    torch::Tensor logits;
    std::vector<torch::Tensor> stages;
  };
  virtual Staged forward_stages(const torch::Tensor& images) { return {forward(images), {}}; }
  // The linear layer that makes the logits (weight [classes, F], bias [classes]: the model's own
  // parameters), for defenses that re-initialise or constrain it (FST). Undefined for none.
  struct LinearHead {
    torch::Tensor weight, bias;
  };
  virtual LinearHead linear_head() { return {}; }
  // A new model of the same architecture holding a copy of this one's parameters, buffers and
  // train/eval mode (NAD's teacher). ConfigError for a model that cannot be copied.
  virtual std::shared_ptr<ClassifierImpl> replicate();
};
using Classifier = std::shared_ptr<ClassifierImpl>;

// Eval mode and no parameter gradients while the model is only differentiated through (PGD,
// trigger optimisation): the parameters' .grad stays as it was. Both are restored on scope exit,
// exceptions included.
class FrozenModel {
 public:
  explicit FrozenModel(ClassifierImpl& model);
  ~FrozenModel();
  FrozenModel(const FrozenModel&) = delete;
  FrozenModel& operator=(const FrozenModel&) = delete;

 private:
  ClassifierImpl& model_;
  bool was_training_;
  std::vector<bool> requires_grad_;
};

// What a model is built from; parsed from the spec's `model:` block plus the dataset's shape.
struct ModelOptions {
  std::string name = "small-cnn";  // A registered model (core/models/registry.h)
  int in_channels = 1;
  int image_size = 28;             // Height = width.
  int num_classes = 10;
  std::vector<double> mean{0.5};   // Per-channel normalisation (the dataset's).
  std::vector<double> std{0.5};
  int width = 0;                   // Channels of the first stage; 0 = the model's default
                                   // (small-cnn 32, preact-resnet18 64; stages double it).
  torch::Device device = torch::kCPU;  // Where the model is built (place_model()).
  bool channels_last = false;
};

// The registered models (core/models/registry.h).
std::vector<std::string> known_models();
// Builds a freshly initialised model on options.device; the caller seeds torch first (the draws are
// made on the CPU, so every device starts from the same weights). Throws ConfigError.
Classifier make_model(const ModelOptions& options);
// A new model of the same options holding a copy of `model`'s state, on its device and in its
// memory layout.
Classifier clone_model(ClassifierImpl& model, const ModelOptions& options);
// Moves the model to `device` and, with `channels_last`, lays its 4-d weights out channels-last
// (NHWC), which convolutions then follow (tensor cores on GPUs).
void place_model(ClassifierImpl& model, torch::Device device, bool channels_last);
int64_t parameter_count(ClassifierImpl& model);

}  // namespace pbe
