#include "core/attacks/input_aware.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "core/attacks/registry.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/training/batches.h"
#include "core/training/checkpoint.h"
#include "core/training/data_parallel.h"
#include "core/training/stop.h"

namespace pbe {
namespace {

namespace F = torch::nn::functional;
constexpr double kEpsilon = 1e-7;

// Nguyen & Tran's mask threshold: a steep sigmoid around 0.5.
torch::Tensor threshold(const torch::Tensor& m) { return torch::tanh(m * 20 - 10) / (2 + kEpsilon) + 0.5; }

// Per-sample root-mean-square distance [N]. The 1e-12 keeps sqrt's gradient finite when two
// outputs coincide (saturated generators), which would otherwise turn the step into NaN.
torch::Tensor distance(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).pow(2).flatten(1).mean(1) + 1e-12).sqrt();
}

torch::Tensor paste(const torch::Tensor& x, const torch::Tensor& pattern, const torch::Tensor& mask) {
  return x + (pattern - x) * mask;
}

// An epoch's batches (as the trainer cuts them) and, for each row, its partner: the row at the
// same position of a second seeded order. Cross triggers and the diversity loss use partners.
// Both come on `device`.
class PartneredBatches {
 public:
  PartneredBatches(const Dataset& data, int64_t batch_size, const Augmentation& augmentation,
                   ProcessGroup& group, uint64_t seed, int epoch, torch::Device device)
      : data_(data), batches_(data, batch_size, augmentation, group, seed, epoch, device), device_(device),
        partners_(seeded_permutation(data.size(), mix_seed(seed ^ 0xa5a5a5a5ULL, epoch))) {}
  int64_t count() const { return batches_.count(); }
  // The batch and its rows' partner images (undefined when this rank's share is empty).
  std::pair<LocalBatch, torch::Tensor> get(int64_t b) const {
    LocalBatch s = batches_.get(b);
    torch::Tensor partners;
    if (!s.empty())
      partners = to_float(data_.images.index_select(0, partners_.narrow(0, s.begin + s.lo, s.hi - s.lo)).to(device_));
    return {std::move(s), partners};
  }

 private:
  const Dataset& data_;
  EpochBatches batches_;
  torch::Device device_;
  torch::Tensor partners_;
};

torch::optim::Adam make_adam(torch::nn::Module& m, double lr) {
  return torch::optim::Adam(m.parameters(), torch::optim::AdamOptions(lr).betas({0.5, 0.9}));
}

}  // namespace

TriggerGeneratorImpl::TriggerGeneratorImpl(int64_t in, int64_t out, int64_t w) {
  // enc: in->w->w | pool | w->2w->2w | pool | mid 2w->2w | up | 2w->2w->w | up | w->w->out
  const std::vector<std::pair<int64_t, int64_t>> shapes{
      {in, w}, {w, w}, {w, 2 * w}, {2 * w, 2 * w}, {2 * w, 2 * w},
      {2 * w, 2 * w}, {2 * w, w}, {w, w}, {w, out}};
  for (size_t i = 0; i < shapes.size(); ++i) {
    auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(shapes[i].first, shapes[i].second, 3).padding(1));
    torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanIn, torch::kReLU);
    torch::nn::init::zeros_(conv->bias);
    convs_.push_back(register_module("conv" + std::to_string(i + 1), conv));
  }
}

torch::Tensor TriggerGeneratorImpl::forward(const torch::Tensor& images) {
  auto up = [](const torch::Tensor& x, const torch::Tensor& like) {
    return F::interpolate(x, F::InterpolateFuncOptions()
                                 .size(std::vector<int64_t>{like.size(2), like.size(3)})
                                 .mode(torch::kBilinear)
                                 .align_corners(false));
  };
  auto x0 = images;
  auto x = torch::relu(convs_[1](torch::relu(convs_[0](x0))));
  auto x1 = x;
  x = torch::max_pool2d(x, 2);
  x = torch::relu(convs_[3](torch::relu(convs_[2](x))));
  auto x2 = x;
  x = torch::max_pool2d(x, 2);
  x = torch::relu(convs_[4](x));
  x = up(x, x2);
  x = torch::relu(convs_[6](torch::relu(convs_[5](x))));
  x = up(x, x1);
  x = convs_[8](torch::relu(convs_[7](x)));
  return torch::tanh(x) / (2 + kEpsilon) + 0.5;
}

InputAware::InputAware(const InputAwareOptions& o, const ImageShape& shape)
    : PoisonLabelAttack("input-aware", o, shape, /*clean_label=*/false), options_(o) {
  if (!(o.cross_rate >= 0 && o.poison_rate + o.cross_rate <= 1))
    throw ConfigError("input-aware: cross_rate must be >= 0 and poison_rate + cross_rate <= 1");
  if (!(o.lambda_div >= 0) || !(o.lambda_norm >= 0))
    throw ConfigError("input-aware: lambda_div and lambda_norm must be >= 0");
  if (!(o.mask_density > 0 && o.mask_density < 1))
    throw ConfigError("input-aware: mask_density must be in (0, 1)");
  if (o.mask_epochs < 0 || o.train_epochs < 0)
    throw ConfigError("input-aware: mask_epochs and train_epochs must be >= 0");
  if (!(o.generator_lr > 0) || o.generator_width < 1)
    throw ConfigError("input-aware: generator_lr and generator_width must be > 0");
  if (shape.height < 4 || shape.width < 4) throw ConfigError("input-aware: images must be at least 4x4");
  pattern_generator_ = TriggerGenerator(shape.channels, shape.channels, o.generator_width);
  mask_generator_ = TriggerGenerator(shape.channels, 1, o.generator_width);
}

double InputAware::extra_image_epochs(int64_t train_size, int victim_epochs) const {
  // In the units its progress reports: one pass per image per epoch, of the mask pre-training and
  // of the joint training (which replaces the victim's plain training).
  const int joint = options_.train_epochs > 0 ? options_.train_epochs : victim_epochs;
  return static_cast<double>(train_size) * (options_.mask_epochs + joint - victim_epochs);
}

at::Tensor InputAware::pattern(const at::Tensor& images) const {
  torch::NoGradGuard no_grad;
  return pattern_generator_.ptr()->forward(images);  // forward() is logically const here
}

at::Tensor InputAware::mask(const at::Tensor& images) const {
  torch::NoGradGuard no_grad;
  return threshold(mask_generator_.ptr()->forward(images));
}

at::Tensor InputAware::apply_trigger(const at::Tensor& images) const {
  // In chunks: poisoning a training set triggers thousands of images at once. The generators
  // run where they were trained (the victim's device); the images come back where they were.
  constexpr int64_t kChunk = 256;
  const torch::Device device = pattern_generator_->parameters().front().device();
  std::vector<at::Tensor> out;
  for (int64_t b = 0; b < images.size(0); b += kChunk) {
    auto x = images.narrow(0, b, std::min(kChunk, images.size(0) - b)).to(device);
    out.push_back(paste(x, pattern(x), mask(x)).to(images.device()));
  }
  return out.empty() ? images.clone() : torch::cat(out);
}

void InputAware::train_mask(const AttackContext& ctx) {
  ProcessGroup& group = ctx.group;
  auto optimizer = make_adam(*mask_generator_, options_.generator_lr);
  const uint64_t seed = derive_seed(ctx.seed, "input-aware/mask");
  int64_t images_done = 0;
  for (int epoch = 0; epoch < options_.mask_epochs; ++epoch) {
    // Nguyen & Tran's milestones 10 and 20 of 25 epochs, gamma 0.1, scaled to mask_epochs.
    const int passed = (epoch >= 0.4 * options_.mask_epochs) + (epoch >= 0.8 * options_.mask_epochs);
    set_learning_rate(optimizer, options_.generator_lr * std::pow(0.1, passed));
    PartneredBatches batches(ctx.clean_train, ctx.training.batch_size, {}, group, seed, epoch,
                             mask_generator_->parameters().front().device());
    for (int64_t b = 0; b < batches.count(); ++b) {
      auto [s, x2] = batches.get(b);
      optimizer.zero_grad();
      if (!s.empty()) {
        auto m1 = threshold(mask_generator_->forward(s.x));
        auto m2 = threshold(mask_generator_->forward(x2));
        auto norm = torch::relu(m1 - options_.mask_density).flatten(1).mean(1).sum();
        auto div = (distance(s.x, x2) / (distance(m1, m2) + kEpsilon)).sum();
        auto loss = (options_.lambda_norm * norm + options_.lambda_div * div) / static_cast<double>(s.global);
        loss.backward();
      }
      allreduce_gradients(*mask_generator_, group);
      optimizer.step();
      images_done += s.global;
      if (ctx.progress)
        ctx.progress({"input-aware mask", epoch, options_.mask_epochs, b + 1, batches.count(), images_done});
    }
  }
}

Infection InputAware::infect(ClassifierImpl& model, const AttackContext& ctx) {
  using Clock = std::chrono::steady_clock;
  ProcessGroup& group = ctx.group;
  torch::manual_seed(derive_seed(ctx.seed, "input-aware/init"));
  pattern_generator_ = TriggerGenerator(shape().channels, shape().channels, options_.generator_width);
  mask_generator_ = TriggerGenerator(shape().channels, 1, options_.generator_width);
  pattern_generator_->to(model.device());
  mask_generator_->to(model.device());
  broadcast_model(*pattern_generator_, group);
  broadcast_model(*mask_generator_, group);
  broadcast_model(model, group);
  TrainOptions o = ctx.training;
  if (options_.train_epochs > 0) o.epochs = options_.train_epochs;
  o.phase = "input-aware";
  torch::optim::SGD sgd(model.parameters(),
                        torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  auto adam = make_adam(*pattern_generator_, options_.generator_lr);
  Infection out;

  // The victim's checkpoint (when the cell runner gives a path) holds the three networks, both
  // optimisers and the curve: written after the mask pre-training and after every joint epoch
  // but the last, so a resumed cell goes on after the last epoch it holds.
  const std::string& path = o.checkpoint_path;
  const auto save = [&] {
    if (path.empty() || group.rank() != 0) return;
    NamedTensors state = model_state(model);
    for (auto& entry : model_state(*pattern_generator_, "pattern/")) state.push_back(std::move(entry));
    for (auto& entry : model_state(*mask_generator_, "mask/")) state.push_back(std::move(entry));
    state.emplace_back("sgd", optimizer_state(sgd));
    state.emplace_back("adam", optimizer_state(adam));
    state.emplace_back("curve", curve_state(out.curve));
    save_checkpoint(path, state);
  };
  std::string problem;
  const auto state = path.empty() ? std::nullopt : load_checkpoint_on_all(path, group, problem);
  if (state) {
    load_model_state(model, *state, path);
    load_model_state(*pattern_generator_, *state, path, "pattern/");
    load_model_state(*mask_generator_, *state, path, "mask/");
    load_optimizer_state(sgd, checkpoint_tensor(*state, "sgd", path), model.device(), path);
    load_optimizer_state(adam, checkpoint_tensor(*state, "adam", path), model.device(), path);
    out.curve = load_curve_state(checkpoint_tensor(*state, "curve", path), path);
  } else {
    train_mask(ctx);
    save();
    stop_point(group);
  }
  for (auto& p : mask_generator_->parameters()) p.requires_grad_(false);
  const int first_epoch = std::min(o.epochs, static_cast<int>(out.curve.size()));
  const int64_t resumed_images =
      state ? ctx.clean_train.size() * (options_.mask_epochs + static_cast<int64_t>(first_epoch)) : 0;
  int64_t images_done = 0;
  for (int epoch = first_epoch; epoch < o.epochs; ++epoch) {
    const auto start = Clock::now();
    const double lr = learning_rate(o, epoch);
    set_learning_rate(sgd, lr);
    model.train();
    PartneredBatches batches(ctx.clean_train, o.batch_size, o.augmentation, group, o.seed, epoch, model.device());
    auto stats = torch::zeros({3}, torch::kDouble);  // loss sum, correct, count
    for (int64_t b = 0; b < batches.count(); ++b) {
      auto [s, x2] = batches.get(b);
      sgd.zero_grad();
      adam.zero_grad();
      if (!s.empty()) {
        const auto n_bd = static_cast<int64_t>(options_.poison_rate * s.global);
        const auto n_cross = static_cast<int64_t>(options_.cross_rate * s.global);
        auto [bd_begin, bd_end] = s.local(0, n_bd);
        auto [cross_begin, cross_end] = s.local(n_bd, n_bd + n_cross);
        auto x = s.x.clone();
        auto y = s.y.clone();
        torch::Tensor div_sum = torch::zeros({}, s.x.options());
        if (bd_end > bd_begin) {
          const int64_t n = bd_end - bd_begin;
          auto xb = s.x.narrow(0, bd_begin, n);
          auto xp = x2.narrow(0, bd_begin, n);
          auto g1 = pattern_generator_->forward(xb);
          auto g2 = pattern_generator_->forward(xp);
          x.narrow(0, bd_begin, n).copy_(paste(xb, g1, threshold(mask_generator_->forward(xb))));
          y.narrow(0, bd_begin, n).copy_(target_labels(s.y.narrow(0, bd_begin, n), shape().num_classes));
          div_sum = (distance(xb, xp) / (distance(g1, g2) + kEpsilon)).sum();
        }
        if (cross_end > cross_begin) {
          auto xc = s.x.narrow(0, cross_begin, cross_end - cross_begin);
          auto xp = x2.narrow(0, cross_begin, cross_end - cross_begin);
          x.narrow(0, cross_begin, cross_end - cross_begin)
              .copy_(paste(xc, pattern_generator_->forward(xp), threshold(mask_generator_->forward(xp))));
        }
        auto logits = model.forward(x);
        auto ce = F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kSum));
        auto loss = ce / static_cast<double>(s.global) +
                    options_.lambda_div * div_sum / static_cast<double>(std::max<int64_t>(1, n_bd));
        loss.backward();
        stats[0] += ce.item<double>();
        stats[1] += logits.argmax(1).eq(y).sum().item<double>();
        stats[2] += static_cast<double>(s.hi - s.lo);
      }
      allreduce_gradients(model, group);
      allreduce_gradients(*pattern_generator_, group);
      sgd.step();
      adam.step();
      images_done += s.global;
      if (ctx.progress) ctx.progress({o.phase, epoch, o.epochs, b + 1, batches.count(), images_done, resumed_images});
    }
    model.eval();
    EpochRecord rec = close_epoch(stats, model, o, epoch, lr, group, ctx.evaluate);
    rec.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    out.curve.push_back(rec);
    if (epoch + 1 < o.epochs) {
      save();
      stop_point(group);  // after the checkpoint: nothing is lost
    }
  }
  if (!path.empty() && group.rank() == 0) std::filesystem::remove(path);
  model.eval();
  for (auto& p : pattern_generator_->parameters()) p.requires_grad_(false);
  out.poisoned = poison(ctx.clean_train, derive_seed(ctx.seed, "poison"));
  return out;
}

NamedTensors InputAware::state() const { return artifacts(0, 0, 0); }  // the generators' weights

void InputAware::restore(const NamedTensors& state) {
  torch::NoGradGuard no_grad;
  for (auto* g : {&pattern_generator_, &mask_generator_}) {
    const std::string prefix = g == &pattern_generator_ ? "pattern_generator/" : "mask_generator/";
    for (auto& p : (*g)->named_parameters()) {
      const auto& saved = state_tensor(state, prefix + p.key());
      if (saved.sizes() != p.value().sizes()) throw std::runtime_error("input-aware: " + prefix + p.key() + " has another shape");
      p.value().copy_(saved);
      p.value().requires_grad_(false);
    }
  }
}

NamedTensors InputAware::artifacts(int64_t, int64_t, int64_t) const {
  NamedTensors out;
  for (const auto& p : pattern_generator_->named_parameters())
    out.push_back({"pattern_generator/" + p.key(), p.value().detach()});
  for (const auto& p : mask_generator_->named_parameters())
    out.push_back({"mask_generator/" + p.key(), p.value().detach()});
  return out;
}

PBE_REGISTER_ATTACK(InputAware, InputAwareOptions, "input-aware",
                    "Input-aware dynamic backdoor (Nguyen & Tran 2020): a generator gives each image its own trigger")

}  // namespace pbe
