#include "core/training/trainer.h"

#include <chrono>
#include <cmath>
#include <tuple>

#include <filesystem>

#include "core/errors.h"
#include "core/training/batches.h"
#include "core/training/checkpoint.h"
#include "core/training/data_parallel.h"
#include "core/training/stop.h"

namespace pbe {
namespace {

NamedTensors training_state(ClassifierImpl& model, torch::optim::Optimizer& optimizer, const TrainCurve& curve) {
  NamedTensors state = model_state(model);
  state.emplace_back("optimizer", optimizer_state(optimizer));
  state.emplace_back("curve", curve_state(curve));
  return state;
}

// Loads the checkpoint at `path` into the model, the optimiser and the curve when every rank of the
// group can; returns the epochs it covers (0: start from scratch).
int resume_training(const std::string& path, ClassifierImpl& model, torch::optim::Optimizer& optimizer,
                    TrainCurve& curve, ProcessGroup& group) {
  std::string problem;
  auto state = load_checkpoint_on_all(path, group, problem);
  if (!state) return 0;
  load_model_state(model, *state, path);
  load_optimizer_state(optimizer, checkpoint_tensor(*state, "optimizer", path), model.device(), path);
  curve = load_curve_state(checkpoint_tensor(*state, "curve", path), path);
  return static_cast<int>(curve.size());
}

}  // namespace

void SgdRecipe::check(const std::string& owner) const {
  if (batch_size < 1 || !(lr > 0)) throw ConfigError(owner + ": batch_size and lr must be positive");
}

TrainOptions SgdRecipe::train_options(int epochs, const Augmentation& augmentation, uint64_t seed,
                                      const std::string& phase) const {
  TrainOptions t;
  t.epochs = epochs;
  t.batch_size = batch_size;
  t.lr = lr;
  t.momentum = momentum;
  t.weight_decay = weight_decay;
  t.schedule = schedule;
  t.augmentation = augmentation;
  t.seed = seed;
  t.phase = phase;
  return t;
}

double learning_rate(const TrainOptions& o, int epoch) {
  switch (o.schedule) {
    case LrSchedule::kConstant: return o.lr;
    case LrSchedule::kCosine:
      return o.lr * 0.5 * (1.0 + std::cos(M_PI * epoch / std::max(1, o.epochs)));
    case LrSchedule::kMultiStep: {
      double lr = o.lr;
      for (int m : o.milestones)
        if (epoch >= m) lr *= o.gamma;
      return lr;
    }
  }
  return o.lr;
}

EpochRecord close_epoch(at::Tensor stats, ClassifierImpl& model, const TrainOptions& o, int epoch,
                        double lr, ProcessGroup& group, const EvalFn& evaluate) {
  group.allreduce(stats, ReduceOp::kSum);
  average_buffers(model, group);  // before the evaluation and the epoch's checkpoint
  EpochRecord rec;
  rec.epoch = epoch;
  rec.lr = lr;
  rec.loss = stats[0].item<double>() / std::max(1.0, stats[2].item<double>());
  rec.train_acc = stats[1].item<double>() / std::max(1.0, stats[2].item<double>());
  if (!std::isfinite(rec.loss))
    throw RunError(o.phase + ": loss is " + std::to_string(rec.loss) + " at epoch " +
                   std::to_string(epoch) + " (diverged; lower the learning rate)");
  if (evaluate && o.eval_every > 0 && ((epoch + 1) % o.eval_every == 0 || epoch + 1 == o.epochs))
    rec.eval = evaluate(model);
  return rec;
}

TrainCurve train_classifier(ClassifierImpl& model, const Dataset& data, const TrainOptions& o,
                            ProcessGroup& group, const EvalFn& evaluate, const ProgressFn& progress) {
  using Clock = std::chrono::steady_clock;
  broadcast_model(model, group);
  torch::optim::SGD optimizer(model.parameters(), torch::optim::SGDOptions(o.lr)
                                                      .momentum(o.momentum)
                                                      .weight_decay(o.weight_decay));
  TrainCurve curve;
  const bool checkpointed = !o.checkpoint_path.empty();
  const int first_epoch = checkpointed ? std::min(o.epochs, resume_training(o.checkpoint_path, model, optimizer, curve, group)) : 0;
  const auto extra_passes = [&](int epoch, int64_t batch) {
    return o.transform && o.transform.extra_passes ? o.transform.extra_passes(epoch, batch) : 0;
  };
  int64_t images_done = 0, resumed_images = 0;
  for (int epoch = 0; epoch < first_epoch; ++epoch) resumed_images += data.size() * (1 + extra_passes(epoch, 0));
  for (int epoch = first_epoch; epoch < o.epochs; ++epoch) {
    const auto start = Clock::now();
    const double lr = learning_rate(o, epoch);
    set_learning_rate(optimizer, lr);
    model.train();
    EpochBatches batches(data, o.batch_size, o.augmentation, group, o.seed, epoch, model.device());
    // loss sum, correct, count: summed on the model's device, read once at the epoch's end (a
    // read per batch would make the host wait for the GPU at every step)
    auto stats = torch::zeros({3}, torch::TensorOptions(torch::kDouble).device(model.device()));
    for (int64_t b = 0; b < batches.count(); ++b) {
      LocalBatch batch = batches.get(b);
      optimizer.zero_grad();
      if (!batch.empty()) {
        auto x = o.transform ? o.transform(model, batch.x, batch.y, epoch, b) : batch.x;
        at::Tensor logits, extra;
        if (o.forward) std::tie(logits, extra) = o.forward(model, x);
        else logits = model.forward(x);
        auto loss_sum = torch::nn::functional::cross_entropy(
            logits, batch.y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
        const double local = static_cast<double>(batch.hi - batch.lo);
        auto loss = loss_sum / static_cast<double>(batch.global);
        if (extra.defined()) loss = loss + extra * (local / static_cast<double>(batch.global));
        loss.backward();
        stats += torch::stack({loss_sum.detach().to(torch::kDouble), logits.argmax(1).eq(batch.y).sum().to(torch::kDouble),
                               torch::scalar_tensor(local, stats.options())});
      }
      allreduce_gradients(model, group);
      optimizer.step();
      if (o.after_step) o.after_step(model);
      images_done += batch.global * (1 + extra_passes(epoch, b));
      if (progress) progress({o.phase, epoch, o.epochs, b + 1, batches.count(), images_done, resumed_images});
    }
    EpochRecord rec = close_epoch(stats, model, o, epoch, lr, group, evaluate);
    rec.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    curve.push_back(rec);
    if (checkpointed && epoch + 1 < o.epochs && group.rank() == 0)
      save_checkpoint(o.checkpoint_path, training_state(model, optimizer, curve));
    if (epoch + 1 < o.epochs) stop_point(group);  // after the checkpoint: nothing is lost
  }
  if (checkpointed && group.rank() == 0) std::filesystem::remove(o.checkpoint_path);
  model.eval();
  return curve;
}

}  // namespace pbe
