#include "core/defenses/anp.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/training/batches.h"
#include "core/training/data_parallel.h"

namespace pbe {

std::vector<NeuronLayer> neuron_layers(ClassifierImpl& model) {
  std::vector<NeuronLayer> norms, convs;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    if (auto* bn = item.value()->as<torch::nn::BatchNorm2d>()) {
      if (bn->weight.defined()) norms.push_back({item.key(), bn->weight, bn->bias});
    } else if (auto* conv = item.value()->as<torch::nn::Conv2d>()) {
      convs.push_back({item.key(), conv->weight, conv->bias});
    }
  }
  return norms.empty() ? convs : norms;
}

NeuronMasks::NeuronMasks(ClassifierImpl& model, const AnpOptions& options)
    : model_(model), options_(options), layers_(neuron_layers(model)), was_training_(model.is_training()) {
  if (layers_.empty()) throw ConfigError("anp: the model exposes no batch-norm or convolution layers to mask");
  int64_t neurons = 0;
  for (const auto& l : layers_) {
    weight0_.push_back(l.weight.detach().clone());
    bias0_.push_back(l.bias.defined() ? l.bias.detach().clone() : at::Tensor());
    neurons += l.weight.size(0);
  }
  for (const auto& b : model.buffers()) buffers0_.push_back(b.detach().clone());
  mask_ = torch::ones({neurons});
  noise_w_ = torch::zeros({neurons});
  noise_b_ = torch::zeros({neurons});
  momentum_ = torch::zeros({neurons});
  model.train();  // as ANP: batch statistics while the masks are optimised
}

NeuronMasks::~NeuronMasks() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i].weight.copy_(weight0_[i]);
    if (bias0_[i].defined()) layers_[i].bias.copy_(bias0_[i]);
  }
  auto buffers = model_.buffers();
  for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(buffers0_[i]);
  for (auto& p : model_.parameters()) p.mutable_grad() = at::Tensor();
  model_.train(was_training_);
}

void NeuronMasks::apply(bool perturbed) {
  torch::NoGradGuard no_grad;
  int64_t at = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const int64_t n = layers_[i].weight.size(0);
    // The masks and noise are bookkeeping on the CPU; the coefficients go to the weights' device.
    auto coef = mask_.narrow(0, at, n);
    if (perturbed) coef = coef + noise_w_.narrow(0, at, n);
    std::vector<int64_t> shape(static_cast<size_t>(weight0_[i].dim()), 1);
    shape[0] = n;
    layers_[i].weight.copy_(weight0_[i] * coef.to(weight0_[i].device()).view(shape));
    if (bias0_[i].defined())
      layers_[i].bias.copy_(perturbed ? bias0_[i] * (1 + noise_b_.narrow(0, at, n).to(bias0_[i].device())) : bias0_[i]);
    at += n;
  }
}

at::Tensor NeuronMasks::coefficient_gradients() {
  // weight = w0 * c, so dL/dc = sum over the channel of dL/dweight * w0 (the same for the bias).
  const int64_t neurons = mask_.numel();
  auto g = torch::zeros({2 * neurons});
  int64_t at = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const int64_t n = layers_[i].weight.size(0);
    const auto& gw = layers_[i].weight.grad();
    if (gw.defined()) g.narrow(0, at, n).copy_((gw * weight0_[i]).reshape({n, -1}).sum(1));
    if (bias0_[i].defined() && layers_[i].bias.grad().defined())
      g.narrow(0, neurons + at, n).copy_(layers_[i].bias.grad() * bias0_[i]);
    at += n;
  }
  return g;
}

void NeuronMasks::loss_and_backward(const at::Tensor& x, const at::Tensor& y, double scale) {
  for (auto& p : model_.parameters()) p.mutable_grad() = at::Tensor();
  if (!x.defined() || x.size(0) == 0) return;
  auto loss = torch::nn::functional::cross_entropy(
      model_.forward(x), y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  (loss * scale).backward();
}

void NeuronMasks::step(const at::Tensor& x, const at::Tensor& y, int64_t global, ProcessGroup& group, uint64_t seed) {
  const int64_t neurons = mask_.numel();
  const double eps = options_.eps, per_image = 1.0 / static_cast<double>(global);
  // 1. The adversarial perturbation: a random start in the ball, signed ascent on the loss.
  if (eps > 0) {
    torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    noise_w_ = torch::rand({neurons}, gen) * (2 * eps) - eps;
    noise_b_ = torch::rand({neurons}, gen) * (2 * eps) - eps;
    for (int s = 0; s < options_.perturbation_steps; ++s) {
      apply(/*perturbed=*/true);
      loss_and_backward(x, y, per_image);
      auto g = coefficient_gradients();
      group.allreduce(g);
      const double size = eps / options_.perturbation_steps;
      noise_w_ = (noise_w_ + size * g.narrow(0, 0, neurons).sign()).clamp(-eps, eps);
      noise_b_ = (noise_b_ + size * g.narrow(0, neurons, neurons).sign()).clamp(-eps, eps);
    }
  }
  // 2. The masks: alpha * natural loss + (1 - alpha) * perturbed loss; both gradients reach the
  // weight coefficient (mask + noise, or mask alone) one for one.
  auto grad = torch::zeros({neurons});
  if (eps > 0) {
    apply(/*perturbed=*/true);
    loss_and_backward(x, y, (1 - options_.alpha) * per_image);
    grad += coefficient_gradients().narrow(0, 0, neurons);
  }
  apply(/*perturbed=*/false);
  loss_and_backward(x, y, (eps > 0 ? options_.alpha : 1.0) * per_image);
  grad += coefficient_gradients().narrow(0, 0, neurons);
  group.allreduce(grad);
  momentum_ = 0.9 * momentum_ + grad;  // SGD with momentum 0.9 (PyTorch's, no dampening)
  mask_ = (mask_ - options_.mask_lr * momentum_).clamp(0, 1);
}

at::Tensor neurons_to_prune(const at::Tensor& masks, const AnpOptions& o) {
  const auto order = std::get<1>(masks.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  const int64_t cap = static_cast<int64_t>(std::floor(o.max_prune_ratio * static_cast<double>(masks.numel())));
  int64_t n = 0;
  if (o.prune_by == "count") {
    n = o.count;
  } else {
    n = masks.lt(o.threshold).sum().item<int64_t>();
  }
  return order.narrow(0, 0, std::min(n, cap));
}

Anp::Anp(const AnpOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1)) throw ConfigError("anp: clean_fraction must be in (0, 1]");
  if (!(o.eps >= 0)) throw ConfigError("anp: eps must be >= 0");
  if (o.perturbation_steps < 1 || o.iterations < 1 || o.batch_size < 1)
    throw ConfigError("anp: perturbation_steps, iterations and batch_size must be positive");
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw ConfigError("anp: alpha must be in [0, 1]");
  if (!(o.mask_lr > 0)) throw ConfigError("anp: mask_lr must be positive");
  if (o.prune_by != "threshold" && o.prune_by != "count")
    throw ConfigError("anp: prune_by must be threshold or count, got '" + o.prune_by + "'");
  if (!(o.threshold >= 0 && o.threshold <= 1)) throw ConfigError("anp: threshold must be in [0, 1]");
  if (o.count < 0) throw ConfigError("anp: count must be >= 0");
  if (!(o.max_prune_ratio >= 0 && o.max_prune_ratio < 1)) throw ConfigError("anp: max_prune_ratio must be in [0, 1)");
  if (!(o.sweep_step >= 0 && o.sweep_step < 1)) throw ConfigError("anp: sweep_step must be in [0, 1)");
}

double Anp::estimated_image_epochs(const WorkSize& size) const {
  // Per iteration: the perturbation steps, then the perturbed and the natural pass.
  const int passes = options_.eps > 0 ? options_.perturbation_steps + 2 : 1;
  return static_cast<double>(options_.iterations) * static_cast<double>(options_.batch_size) * passes;
}

DefenseResult Anp::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  const Dataset& clean = ctx.clean_extra;
  if (clean.size() == 0) throw ConfigError("anp: the clean extra set is empty");
  broadcast_model(model, ctx.group);
  at::Tensor masks;
  std::vector<int64_t> layer_sizes;
  {
    NeuronMasks state(model, options_);
    for (const auto& l : state.layers()) layer_sizes.push_back(l.weight.size(0));
    const int passes = options_.eps > 0 ? options_.perturbation_steps + 2 : 1;
    const int64_t per_epoch = (clean.size() + options_.batch_size - 1) / options_.batch_size;
    const int epochs = static_cast<int>((options_.iterations + per_epoch - 1) / per_epoch);
    int64_t images = 0, i = 0;
    for (int epoch = 0; i < options_.iterations; ++epoch) {
      // ANP samples with replacement; here each epoch of the clean set is reshuffled.
      EpochBatches batches(clean, options_.batch_size, ctx.augmentation, ctx.group, derive_seed(ctx.seed, "anp"), epoch,
                           model.device());
      for (int64_t b = 0; b < per_epoch && i < options_.iterations; ++b, ++i) {
        const LocalBatch batch = batches.get(b);
        state.step(batch.x, batch.y, batch.global, ctx.group, mix_seed(ctx.seed, static_cast<uint64_t>(i)));
        images += batch.global * passes;
        if (ctx.progress) ctx.progress({"anp masks", epoch, epochs, b + 1, per_epoch, images});
      }
    }
    masks = state.masks().clone();
  }  // the model's weights are back
  const auto layers = neuron_layers(model);
  // Zeroes the weights of `neurons` (flat indices); the weight only, as ANP prunes.
  auto prune = [&](const at::Tensor& neurons) {
    torch::NoGradGuard no_grad;
    for (int64_t i = 0; i < neurons.numel(); ++i) {
      int64_t flat = neurons[i].item<int64_t>();
      size_t l = 0;
      while (flat >= layer_sizes[l]) flat -= layer_sizes[l++];
      layers[l].weight[flat].zero_();
    }
  };
  DefenseResult result;
  const auto order = std::get<1>(masks.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  if (options_.sweep_step > 0 && ctx.evaluate) {
    std::vector<at::Tensor> originals;
    for (const auto& l : layers) originals.push_back(l.weight.detach().clone());
    result.steps = {{"pruned", {}}, {"largest_mask", {}}, {"acc", {}}, {"asr", {}}};
    const auto n = static_cast<double>(masks.numel());
    for (int j = 1; j * options_.sweep_step <= options_.max_prune_ratio + 1e-9; ++j) {
      const auto count = static_cast<int64_t>(std::floor(j * options_.sweep_step * n));
      if (count == 0) continue;
      prune(order.narrow(0, 0, count));
      const EvalPoint e = ctx.evaluate(model);
      const std::vector<double> values{static_cast<double>(count), masks[order[count - 1]].item<double>(), e.acc, e.asr};
      for (size_t i = 0; i < values.size(); ++i) result.steps[i].second.push_back(values[i]);
      torch::NoGradGuard no_grad;
      for (size_t l = 0; l < layers.size(); ++l) layers[l].weight.copy_(originals[l]);
    }
  }
  const auto pruned = neurons_to_prune(masks, options_);
  prune(pruned);
  auto is_pruned = torch::zeros({masks.numel()});
  if (pruned.numel() > 0) is_pruned.index_fill_(0, pruned, 1.0);
  result.neurons = {{"layer", {}}, {"channel", {}}, {"mask", {}}, {"pruned", {}}};
  int64_t at = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    for (int64_t c = 0; c < layer_sizes[l]; ++c, ++at) {
      const std::vector<double> values{static_cast<double>(l), static_cast<double>(c), masks[at].item<double>(),
                                       static_cast<double>(is_pruned[at].item<float>())};
      for (size_t i = 0; i < values.size(); ++i) result.neurons[i].second.push_back(values[i]);
    }
  }
  return result;
}

PBE_REGISTER_DEFENSE(Anp, AnpOptions, "anp",
                     "Adversarial Neuron Pruning (Wu & Wang 2021): prune the neurons most sensitive to weight perturbations")

}  // namespace pbe
