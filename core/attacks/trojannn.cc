#include "core/attacks/trojannn.h"

#include <torch/torch.h>

#include "core/attacks/registry.h"
#include "core/errors.h"
#include "core/models/autocast.h"

namespace pbe {

TrojanNN::TrojanNN(const TrojanNNOptions& o, const ImageShape& shape)
    : PoisonLabelAttack("trojannn", o, shape, /*clean_label=*/false), options_(o) {
  if (o.size < 1) throw ConfigError("trojannn: size must be >= 1");
  o.placement.validate("trojannn");
  o.placement.origin(o.size, shape.height, shape.width, "trojannn");
  if (o.neurons < 1) throw ConfigError("trojannn: neurons must be >= 1");
  if (o.steps < 1 || !(o.lr > 0)) throw ConfigError("trojannn: steps and lr must be > 0");
  if (o.surrogate_epochs < 0) throw ConfigError("trojannn: surrogate_epochs must be >= 0");
  pattern_ = torch::zeros({shape.channels, shape.height, shape.width});  // Until prepare().
}

double TrojanNN::extra_image_epochs(int64_t train_size, int victim_epochs) const {
  return static_cast<double>(train_size) * (options_.surrogate_epochs > 0 ? options_.surrogate_epochs : victim_epochs);
}

at::Tensor TrojanNN::mask(int64_t h, int64_t w) const {
  auto mask = torch::zeros({h, w});
  auto [y, x] = options_.placement.origin(options_.size, h, w, "trojannn");
  mask.narrow(0, y, options_.size).narrow(1, x, options_.size).fill_(1.0);
  return mask;
}

at::Tensor outgoing_weight_mass(ClassifierImpl& model, int64_t feature_count) {
  torch::NoGradGuard no_grad;
  AutocastOff float32(model.device().type());  // bf16 rounding would reorder close neurons
  // head(e_j) - head(0) is column j of the head's weight matrix.
  const auto on = torch::TensorOptions().device(model.device());
  auto basis = torch::eye(feature_count, on);
  auto columns = model.head(basis) - model.head(torch::zeros({1, feature_count}, on));
  return columns.abs().sum(1).cpu();
}

std::pair<double, double> TrojanNN::optimise_trigger(ClassifierImpl& model) {
  FrozenModel frozen(model);  // only the pattern is optimised
  const int64_t c = shape().channels, h = shape().height, w = shape().width;
  const auto on = torch::TensorOptions().device(model.device());  // optimised where the model is
  auto m = mask(h, w).to(on.device());
  const int64_t features = model.features(torch::zeros({1, c, h, w}, on)).size(1);
  const int64_t k = std::min<int64_t>(options_.neurons, features);
  neurons_ = std::get<1>(outgoing_weight_mass(model, features).topk(k));
  const auto neurons = neurons_.to(on.device());
  // Every rank runs the same deterministic optimisation from the same start: no communication.
  auto theta = torch::zeros({c, h, w}, on).requires_grad_(true);  // pattern = (tanh(theta) + 1) / 2
  torch::optim::Adam optimizer({theta}, torch::optim::AdamOptions(options_.lr));
  auto activation = [&](const at::Tensor& pattern) {
    return model.features((pattern * m).unsqueeze(0)).index_select(1, neurons);
  };
  double before = 0;
  {
    torch::NoGradGuard no_grad;
    before = activation((torch::tanh(theta) + 1) / 2).mean().item<double>();
  }
  for (int step = 0; step < options_.steps; ++step) {
    optimizer.zero_grad();
    auto loss = (activation((torch::tanh(theta) + 1) / 2) - options_.target_value).pow(2).sum();
    loss.backward();
    optimizer.step();
  }
  torch::NoGradGuard no_grad;
  const auto pattern = ((torch::tanh(theta) + 1) / 2 * m).detach();
  pattern_ = pattern.cpu();  // stamped on data, which lives on the CPU
  return {before, activation(pattern).mean().item<double>()};
}

void TrojanNN::prepare(const AttackContext& ctx) {
  Classifier clean = train_clean_surrogate(ctx, options_.surrogate_epochs, "trojannn-surrogate");
  optimise_trigger(*clean);
  // Ranks computed the same thing; rank 0's copy makes it exact whatever their thread counts.
  ctx.group.broadcast(pattern_, 0);
}

void TrojanNN::restore(const NamedTensors& state) {
  pattern_ = state_tensor(state, "pattern").to(torch::kFloat).clone();
  neurons_ = state_tensor(state, "neurons").to(torch::kLong).clone();
}

at::Tensor TrojanNN::apply_trigger(const at::Tensor& images) const {
  return stamp(images, pattern_, mask(images.size(2), images.size(3)));
}

NamedTensors TrojanNN::artifacts(int64_t, int64_t h, int64_t w) const {
  return {{"trigger_pattern", pattern_}, {"trigger_mask", mask(h, w)},
          {"neurons", neurons_.defined() ? neurons_.to(torch::kFloat) : torch::zeros({0})}};
}

PBE_REGISTER_ATTACK(TrojanNN, TrojanNNOptions, "trojannn",
                    "TrojanNN (Liu et al. 2018): a patch optimised to excite chosen neurons of a clean model")

}  // namespace pbe
