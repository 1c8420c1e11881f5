#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/data/augmentation.h"
#include "core/data/dataset.h"
#include "core/models/classifier.h"
#include "core/options.h"
#include "core/training/progress.h"
#include "distributed/process_group.h"

namespace pbe {

enum class LrSchedule { kConstant, kCosine, kMultiStep };
// How specs spell each schedule.
inline const std::vector<std::pair<const char*, LrSchedule>>& lr_schedule_names() {
  static const std::vector<std::pair<const char*, LrSchedule>> names{
      {"cosine", LrSchedule::kCosine}, {"multistep", LrSchedule::kMultiStep}, {"constant", LrSchedule::kConstant}};
  return names;
}

// Replaces a batch's local (augmented) float images before the step, e.g. with adversarial
// examples of the current model: (model, images, labels, epoch, batch) -> images.
struct BatchTransform {
  std::function<at::Tensor(ClassifierImpl&, const at::Tensor&, const at::Tensor&, int, int64_t)> apply;
  // Extra forward-backward passes per image it costs at (epoch, batch) (PGD: its steps); progress
  // counts image passes, so a run's work estimate and its progress agree. May be empty (0).
  std::function<int(int epoch, int64_t batch)> extra_passes;
  explicit operator bool() const { return static_cast<bool>(apply); }
  at::Tensor operator()(ClassifierImpl& model, const at::Tensor& images, const at::Tensor& labels, int epoch,
                        int64_t batch) const {
    return apply(model, images, labels, epoch, batch);
  }
};

// Replaces the trainer's forward pass: (model, images) -> {logits, extra loss}. The extra loss is
// added to the batch's mean cross-entropy; it is a mean over this rank's images (the trainer
// weighs it by the rank's share of the global batch) or undefined for none. NAD's distillation.
using ForwardFn = std::function<std::pair<at::Tensor, at::Tensor>(ClassifierImpl&, const at::Tensor&)>;

// SGD training recipe. Defaults follow BackdoorBench's small-model recipes.
struct TrainOptions {
  int epochs = 10;
  int64_t batch_size = 128;   // GLOBAL batch: split over the group's ranks.
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  LrSchedule schedule = LrSchedule::kCosine;
  std::vector<int> milestones;  // kMultiStep: epochs where lr *= gamma.
  double gamma = 0.1;
  Augmentation augmentation;    // Training augmentation (the dataset's by default).
  uint64_t seed = 0;            // Shuffling and augmentation draws.
  int eval_every = 1;           // Evaluate (the curve's acc/asr) every this many epochs; 0 = never.
  std::string phase = "train";  // Name shown in progress.
  BatchTransform transform;     // Optional; applied after augmentation.
  ForwardFn forward;            // Optional; model.forward and no extra loss when empty.
  // Optional; runs on every rank after each optimiser step (the ranks' weights are equal then):
  // FST's projection of the head onto its original norm.
  std::function<void(ClassifierImpl&)> after_step;
  // Optional: after each epoch the group's first rank saves the training (model, optimiser,
  // curve) here, and a training that finds a usable checkpoint here goes on after its epoch, as if
  // never interrupted (each epoch's batches depend on the seed and the epoch only). Removed when
  // the training ends. An unusable file is ignored (the launcher reports it).
  std::string checkpoint_path;
};

// The SGD knobs a fine-tuning defense exposes (FT, AFT, PBE).
struct SgdRecipe {
  int64_t batch_size = 128;
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  LrSchedule schedule = LrSchedule::kCosine;
  void visit(OptionVisitor& v) {
    v("batch_size", batch_size, "global batch, split over the ranks");
    v("lr", lr, "SGD learning rate");
    v("momentum", momentum, "SGD momentum");
    v("weight_decay", weight_decay, "SGD weight decay");
    v.choice("schedule", schedule, lr_schedule_names(), "learning-rate schedule: cosine, multistep or constant");
  }
  // Throws ConfigError "<owner>: ..." unless batch_size and lr are positive.
  void check(const std::string& owner) const;
  // TrainOptions running this recipe for `epochs` epochs.
  TrainOptions train_options(int epochs, const Augmentation& augmentation, uint64_t seed,
                             const std::string& phase) const;
};

// Evaluation the trainer calls at epoch ends for the curves (e.g. clean accuracy and ASR).
struct EvalPoint {
  double acc = std::numeric_limits<double>::quiet_NaN();
  double asr = std::numeric_limits<double>::quiet_NaN();
};
using EvalFn = std::function<EvalPoint(ClassifierImpl&)>;

// One row per epoch.
struct EpochRecord {
  int epoch = 0;
  double lr = 0, loss = 0, train_acc = 0, seconds = 0;
  EvalPoint eval;
};
using TrainCurve = std::vector<EpochRecord>;

double learning_rate(const TrainOptions& options, int epoch);

// The end of a data-parallel epoch: sums `stats` (double [3]: loss sum, correct, count) over the
// group, averages the model's buffers over it (average_buffers), checks the loss is finite
// (RunError naming options.phase otherwise), and evaluates when options.eval_every says so. For
// training loops of their own (Input-aware, MCR's curve) to share the trainer's records.
EpochRecord close_epoch(at::Tensor stats, ClassifierImpl& model, const TrainOptions& options,
                        int epoch, double lr, ProcessGroup& group, const EvalFn& evaluate);

// Data-parallel SGD: rank 0's weights are broadcast first; each global batch of the seeded epoch
// permutation is split over the ranks and the gradients all-reduced, so the model after training
// is the same on any rank count (up to float summation order). Throws RunError on a non-finite loss.
TrainCurve train_classifier(ClassifierImpl& model, const Dataset& data, const TrainOptions& options,
                            ProcessGroup& group, const EvalFn& evaluate = {},
                            const ProgressFn& progress = {});

}  // namespace pbe
