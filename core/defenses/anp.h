#pragma once
#include <string>
#include <vector>

#include "core/defenses/defense.h"

namespace pbe {

// ANP, Adversarial Neuron Pruning (Wu & Wang 2021). Every neuron k (a channel of the model's batch
// norm layers, or of its convolutions when it has no batch norm) gets a mask m_k in [0, 1] that
// scales its weight, and adversarial multiplicative perturbations: weight * (m_k + d_k), bias *
// (1 + b_k), with d, b in [-eps, eps]. Each iteration draws d, b uniformly in the eps ball, takes
// `perturbation_steps` signed ascent steps of size eps/steps on the cross-entropy (projected back
// into the ball), then one SGD step on the masks for
//   alpha * CE(clean masks) + (1 - alpha) * CE(perturbed),
// clipping masks to [0, 1]. Neurons that are sensitive to perturbation (backdoor neurons) end with
// small masks and are pruned (their weight set to 0, as ANP does), by threshold or by count, never
// more than max_prune_ratio of them. No fine-tuning follows.
// Defaults are the ANP paper's and release's: eps 0.4, 1 step, alpha 0.2, mask lr 0.2 (momentum
// 0.9), 2000 iterations of batch 128, pruning below 0.2. BackdoorBench picks the threshold by the
// test ASR, which is oracle knowledge: here the threshold is fixed in advance. Unlike the release,
// the perturbation is projected back into its eps ball after the ascent step (the paper's
// constraint; the release lets one step from a random start reach 2 eps).
struct AnpOptions {
  double clean_fraction = 0.05;
  double eps = 0.4;
  int perturbation_steps = 1;
  double alpha = 0.2;
  double mask_lr = 0.2;
  int iterations = 2000;
  int64_t batch_size = 128;
  std::string prune_by = "threshold";  // threshold | count
  double threshold = 0.2;
  int64_t count = 0;
  double max_prune_ratio = 0.9;
  // The pruning itself never looks at the sweep (BackdoorBench picks its threshold from this curve
  // on the test set).
  double sweep_step = 0;
  void visit(OptionVisitor& v) {
    v("clean_fraction", clean_fraction, "clean extra set size / training set size");
    v("eps", eps, "bound of the multiplicative weight and bias perturbations");
    v("perturbation_steps", perturbation_steps, "signed ascent steps on the perturbations per iteration");
    v("alpha", alpha, "weight of the clean loss against the perturbed one");
    v("mask_lr", mask_lr, "SGD learning rate of the masks (momentum 0.9)");
    v("iterations", iterations, "mask updates");
    v("batch_size", batch_size, "global batch of the mask updates");
    v("prune_by", prune_by, "threshold (masks below `threshold`) or count (the `count` smallest masks)");
    v("threshold", threshold, "prune_by threshold: masks below it are pruned");
    v("count", count, "prune_by count: how many of the smallest masks are pruned");
    v("max_prune_ratio", max_prune_ratio, "never prune more than this share of the neurons");
    v("sweep_step", sweep_step, "for the record only: ACC/ASR after pruning each multiple of this share, smallest masks first; 0 = none");
  }
};

// A layer whose output channels are ANP's neurons: its weight and bias (dim 0 = channel).
struct NeuronLayer {
  std::string name;
  at::Tensor weight, bias;  // the model's parameters; bias may be undefined
};
// The model's batch-norm layers (affine), or its convolutions when it has none, in module order.
std::vector<NeuronLayer> neuron_layers(ClassifierImpl& model);

// ANP's state while it optimises: neuron masks and perturbations over the neuron layers. Holds the
// model's original weights; the destructor puts them (and the buffers) back.
class NeuronMasks {
 public:
  // ConfigError when the model has no neuron layers (a TorchScript model).
  NeuronMasks(ClassifierImpl& model, const AnpOptions& options);
  ~NeuronMasks();
  NeuronMasks(const NeuronMasks&) = delete;
  NeuronMasks& operator=(const NeuronMasks&) = delete;
  // One ANP iteration on this rank's share (x, y) of a global batch of `global` images; every rank
  // calls it together. `seed` draws the random start of the perturbation.
  void step(const at::Tensor& x, const at::Tensor& y, int64_t global, ProcessGroup& group, uint64_t seed);
  // Flat over the neuron layers in order: float [neurons].
  const at::Tensor& masks() const { return mask_; }
  const at::Tensor& weight_noise() const { return noise_w_; }
  const at::Tensor& bias_noise() const { return noise_b_; }
  const std::vector<NeuronLayer>& layers() const { return layers_; }

 private:
  void apply(bool perturbed);             // writes original * coefficients into the parameters
  at::Tensor coefficient_gradients();     // d loss / d (weight coef, bias coef), flat [2 * neurons]
  void loss_and_backward(const at::Tensor& x, const at::Tensor& y, double scale);  // CE sum x scale

  ClassifierImpl& model_;
  AnpOptions options_;
  std::vector<NeuronLayer> layers_;
  std::vector<at::Tensor> weight0_, bias0_, buffers0_;
  at::Tensor mask_, noise_w_, noise_b_, momentum_;
  bool was_training_;
};

// The neurons (flat indices) ANP prunes given its final masks: below the threshold, or the `count`
// smallest, ties to the lower index, at most max_prune_ratio of them. int64, in pruning order.
at::Tensor neurons_to_prune(const at::Tensor& masks, const AnpOptions& options);

class Anp final : public Defense {
 public:
  explicit Anp(const AnpOptions& options);  // ConfigError on bad options
  std::string name() const override { return "anp"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  double estimated_image_epochs(const WorkSize& size) const override;
  // neurons: one row per neuron: layer (index into neuron_layers), channel, mask, pruned (0/1).
  // steps: the sweep (sweep_step > 0 and an evaluator): pruned, largest_mask (of the pruned), acc, asr.
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  AnpOptions options_;
};

}  // namespace pbe
