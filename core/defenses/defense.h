#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/data/augmentation.h"
#include "core/data/dataset.h"
#include "core/models/classifier.h"
#include "core/training/progress.h"
#include "core/training/trainer.h"
#include "distributed/process_group.h"
#include "util/columns.h"

namespace pbe {

// How a selected subset of the training set compares with the true poison mask: the evaluator's
// knowledge, computed by the runner for the record (a defense sees only these numbers' absence).
struct SelectionQuality {
  int64_t size = 0, poisoned = 0;  // rows selected; poisoned among them
  double clean_precision = 0;      // clean rows selected / rows selected
  double clean_recall = 0;         // clean rows selected / clean rows in the training set
};
using SelectionJudge = std::function<SelectionQuality(const at::Tensor& selected_rows)>;


// What a defense may use. It never sees the poison mask or the test set: curves come through
// `evaluate` and selection quality through `judge`, which the runner supplies for the record.
struct DefenseContext {
  const Dataset& poisoned_train;  // The training set as the defender holds it.
  const Dataset& clean_extra;     // Clean extra data (empty unless clean_fraction() > 0).
  Augmentation augmentation;      // The dataset's usual training augmentation.
  ProcessGroup& group;
  uint64_t seed = 0;
  EvalFn evaluate;                // For per-epoch curves; may be empty.
  ProgressFn progress;
  SelectionJudge judge;           // For data-filtering defenses' records; may be empty.
};

struct DefenseResult {
  TrainCurve curve;
  Columns steps;          // Per-step records (PBE's steps, FP's trials, NC's classes, I-BAU's rounds, sweeps); may be empty.
  Columns neurons;        // Per-neuron records (ANP's masks); may be empty.
  Columns rows;           // Per-training-row records (PBE's filter scores); may be empty.
  at::Tensor selected;  // The final training rows a data-filtering defense kept (int64); may be undefined.
};

// The sizes a defense's work depends on.
struct WorkSize {
  int64_t train = 0;  // the training set as the defender holds it
  int64_t clean = 0;  // the clean extra set
  int classes = 0;
};

// Rows of the clean extra set a defense asking for `fraction` of a `train`-row training set gets
// in the matrix (`pbe_dist purify` uses all of --clean instead).
int64_t clean_extra_size(double fraction, int64_t train);

// A backdoor defense: purifies `model` in place. Every rank of the group calls purify together.
class Defense {
 public:
  virtual ~Defense() = default;
  virtual std::string name() const = 0;
  // Size of the clean extra set this defense needs, as a fraction of the training set size.
  virtual double clean_fraction() const { return 0.0; }
  // Work estimate in image passes (core/training/progress.h) for sets of these sizes: what the
  // defense's progress events add up to.
  virtual double estimated_image_epochs(const WorkSize& size) const { return 0.0; }
  // False for a defense that leaves the model as it is: the runner then reuses the infected
  // model's evaluation instead of copying and re-evaluating it.
  virtual bool changes_model() const { return true; }
  virtual DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const = 0;
};

// "none": the model as the attacker left it (the "before" column).
class NoDefense final : public Defense {
 public:
  std::string name() const override { return "none"; }
  bool changes_model() const override { return false; }
  DefenseResult purify(ClassifierImpl&, const DefenseContext&) const override { return {}; }
};

}  // namespace pbe
