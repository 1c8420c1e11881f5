#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>

#include <string>
#include <vector>

#include "core/attacks/attack.h"

namespace pbe {

// The encoder-decoder of Nguyen & Tran's trigger generators: two (conv-ReLU x2, max-pool)
// stages, a middle conv, two (bilinear x2 upsample, conv-ReLU x2) stages (the last conv without
// ReLU), squashed to [0, 1] by tanh(x) / 2 + 0.5. Their MNIST generator uses width 16. Unlike
// theirs it has no batch norm, so its output does not depend on how a batch is split over ranks.
class TriggerGeneratorImpl : public torch::nn::Module {
 public:
  TriggerGeneratorImpl(int64_t in_channels, int64_t out_channels, int64_t width);
  torch::Tensor forward(const torch::Tensor& images);  // [N, out, H, W] in [0, 1]

 private:
  std::vector<torch::nn::Conv2d> convs_;
};
TORCH_MODULE(TriggerGenerator);

// Input-aware dynamic backdoor (Nguyen & Tran 2020, "Input-Aware Dynamic Backdoor Attack"): each
// image gets its own trigger: a pattern g(x) pasted through a mask m(x),
// x' = x + (g(x) - x) m(x). The mask generator is first trained alone (mask_epochs) to keep masks
// sparse (lambda_norm relu(m - mask_density)) and diverse; then the classifier and the pattern
// generator train together: in every batch poison_rate of the images carry their own trigger and
// the target label (backdoor mode), cross_rate carry ANOTHER image's trigger and keep their label
// (cross-trigger mode: triggers must not transfer), the rest are clean. A diversity loss
// ||x1 - x2|| / ||g(x1) - g(x2)|| keeps triggers input-specific. The defender's training set is
// the clean set with poison_rate of it triggered by the trained generators.
struct InputAwareOptions : PoisonOptions {
  double cross_rate = 0.1;
  double lambda_div = 1.0;
  double lambda_norm = 100.0;
  double mask_density = 0.032;
  int mask_epochs = 25;
  double generator_lr = 0.01;
  int generator_width = 16;  // their MNIST generator's
  // The attacker owns training here, and the generator needs far longer than a plain victim (the
  // authors train 600 epochs).
  int train_epochs = 0;
  void visit(OptionVisitor& v) {
    PoisonOptions::visit(v);
    v("cross_rate", cross_rate, "p_cross: share of each batch carrying another image's trigger");
    v("lambda_div", lambda_div, "diversity loss weight");
    v("lambda_norm", lambda_norm, "mask norm loss weight");
    v("mask_density", mask_density, "mask density left unpenalised");
    v("mask_epochs", mask_epochs, "mask-generator pre-training epochs");
    v("generator_lr", generator_lr, "Adam (betas 0.5, 0.9) learning rate of both generators");
    v("generator_width", generator_width, "channels of the generators' first stage");
    v("train_epochs", train_epochs, "epochs of the joint training; 0 = the spec's training epochs");
  }
};

class InputAware final : public PoisonLabelAttack {
 public:
  InputAware(const InputAwareOptions& options, const ImageShape& shape);
  std::string name() const override { return "input-aware"; }
  double extra_image_epochs(int64_t train_size, int victim_epochs) const override;
  // Trains the generators and the victim together, then poisons the defender's set with them.
  Infection infect(ClassifierImpl& model, const AttackContext& context) override;
  at::Tensor apply_trigger(const at::Tensor& images) const override;
  NamedTensors artifacts(int64_t channels, int64_t height, int64_t width) const override;
  // The trained generators' per-image pattern [N, C, H, W] and thresholded mask [N, 1, H, W].
  NamedTensors state() const override;
  void restore(const NamedTensors& state) override;
  at::Tensor pattern(const at::Tensor& images) const;
  at::Tensor mask(const at::Tensor& images) const;

 private:
  void train_mask(const AttackContext& context);
  InputAwareOptions options_;
  TriggerGenerator pattern_generator_{nullptr};
  TriggerGenerator mask_generator_{nullptr};
};

}  // namespace pbe
