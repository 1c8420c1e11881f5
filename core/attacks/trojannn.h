#pragma once
#include <string>

#include "core/attacks/attack.h"
#include "core/attacks/patch.h"

namespace pbe {

// TrojanNN (Liu et al. 2018, "Trojaning Attack on Neural Networks"): the trigger's mask is fixed
// (a square patch) and its pattern is optimised so that a clean model's chosen internal neurons
// fire strongly: the `neurons` units of the penultimate layer with the largest total |weight| to
// the next layer (as the original code and TrojanZoo/BackdoorBench pick them) are driven towards
// `target_value` by minimising the squared error with Adam over the patch pasted on a black
// image. The optimised trigger then poisons the training set like BadNets.
struct TrojanNNOptions : PoisonOptions {
  int size = 7;  // ~7% of a 28x28 image, Liu et al.'s trigger area
  PatchPlacement placement;
  int neurons = 2;  // TrojanZoo, BackdoorBench
  double target_value = 100.0;
  int steps = 1000;
  double lr = 0.1;
  int surrogate_epochs = 0;
  void visit(OptionVisitor& v) {
    PoisonOptions::visit(v);
    v("size", size, "patch side in pixels");
    placement.visit(v);
    v("neurons", neurons, "penultimate neurons the trigger excites");
    v("target_value", target_value, "activation the neurons are driven to");
    v("steps", steps, "optimisation steps");
    v("lr", lr, "Adam step size on the tanh-parametrised pattern");
    v("surrogate_epochs", surrogate_epochs, "training epochs of the clean model; 0 = the victim's");
  }
};

class TrojanNN final : public PoisonLabelAttack {
 public:
  TrojanNN(const TrojanNNOptions& options, const ImageShape& shape);
  std::string name() const override { return "trojannn"; }
  double extra_image_epochs(int64_t train_size, int victim_epochs) const override;
  // Trains the clean model, selects the neurons and optimises the pattern (same on every rank).
  void prepare(const AttackContext& context) override;
  at::Tensor apply_trigger(const at::Tensor& images) const override;
  NamedTensors artifacts(int64_t channels, int64_t height, int64_t width) const override;
  at::Tensor mask(int64_t height, int64_t width) const;
  // Optimises the pattern against `model` (what prepare() does after training it). Returns the
  // selected neurons' mean activation before and after.
  std::pair<double, double> optimise_trigger(ClassifierImpl& model);
  NamedTensors state() const override { return {{"pattern", pattern_}, {"neurons", neurons_}}; }
  void restore(const NamedTensors& state) override;
  const at::Tensor& pattern() const { return pattern_; }        // [C, H, W]
  const at::Tensor& selected_neurons() const { return neurons_; }  // int64 [neurons]

 private:
  TrojanNNOptions options_;
  at::Tensor pattern_;
  at::Tensor neurons_;
};

// Total |weight| from each penultimate unit to the classes: sum_k |W[k, j]| of the (linear) head,
// read through the head itself, so any model whose head is linear works. float [features].
at::Tensor outgoing_weight_mass(ClassifierImpl& model, int64_t feature_count);

}  // namespace pbe
