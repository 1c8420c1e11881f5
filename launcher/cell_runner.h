#pragma once
#include <map>
#include <vector>

#include "core/attacks/attack.h"
#include "core/data/dataset.h"
#include "core/random.h"
#include "core/training/model_store.h"
#include "distributed/process_group.h"
#include "launcher/plan.h"
#include "launcher/progress_reporter.h"
#include "launcher/spec.h"
#include "launcher/victim_recipe.h"
#include "storage/records.h"
#include "storage/result_store.h"

namespace pbe {

// Runs one cell on a process group: poison, train the infected model (data-parallel), evaluate,
// then each defense on a copy of it. With a model store (`models`, non-null), the infected model,
// its attack's state and its training curve come from the store when their recipe's key is there
// (launcher/victim_recipe.h), and are stored after training otherwise; the attack unit records
// which (model_source: trained or store) and the key. Models live on `device`; data and records on the CPU. Every
// rank of the group calls run() together; only the rank holding `store` (non-null) commits, one
// unit at a time: the attack, then each defense. A RunError (e.g. divergence) marks the unit
// failed and the cell goes on; other exceptions propagate.
class CellRunner {
 public:
  CellRunner(const ExperimentSpec& spec, const TrainTest& data, ProcessGroup& group, torch::Device device,
             ResultStore* store, ProgressReporter& progress, const ModelStore* models = nullptr,
             RecipeCompute compute = {});
  std::vector<MatrixRow> run(const Cell& cell);
  // --resume: the units `stored` holds are skipped (their rows are returned as they are), and a
  // cell whose attack unit is stored takes its infected model and attack state from its checkpoint
  // (trained again, the same way, when the checkpoint is missing or unusable).
  void resume_from(StoredResults stored) { stored_ = std::move(stored); }

 private:
  ModelOptions model_options() const;
  // A fresh model of the seed trained through `attack` (prepare + infect), as a cell trains it,
  // with epoch checkpoints under the cell's name `id` if asked.
  Infection train_victim(Attack& attack, Classifier& model, const std::string& id, int seed, const EvalFn& eval_curve,
                         bool epoch_checkpoints);
  // Checkpoint files next to the results file: OUTPUT.ckpt/<attack id>-seed<k><suffix>.
  std::string checkpoint_path(const std::string& id, int seed, const std::string& suffix) const;
  // The infected model and the attack's state: saved by the group's first rank, loaded by every
  // rank. Collective: false on every rank unless every rank read the same usable version (another
  // group may replace the clean model's between two reads), with the problem logged unless there
  // was no file.
  void save_infected(const std::string& id, int seed, ClassifierImpl& model, const Attack& attack);
  bool load_infected(const std::string& id, int seed, Classifier& model, Attack& attack);
  // The same for any file of that format (a checkpoint, a model store entry), with the training
  // curve when `curve` is non-null (the file must hold one then).
  bool load_victim(const std::string& path, Classifier& model, Attack& attack, TrainCurve* curve);
  // The seed's victim of `attack` as the model store keys it (launcher/victim_recipe.h).
  std::string recipe(const AttackEntry& attack, int seed) const;
  // The seed's clean model when the spec has a "none" row: the one its cell trained, or (that cell
  // not run here yet: another group, or later in the spec) the same training done now. Null otherwise.
  ClassifierImpl* clean_model(int seed);
  // The observation probes on the infected model and on the seed's clean one (when there is one).
  std::vector<ProbeRecord> run_probes(ClassifierImpl& infected, const Attack& attack, int seed);
  const ExperimentSpec& spec_;
  const TrainTest& data_;
  ProcessGroup& group_;
  torch::Device device_;  // Where this rank's models compute.
  ResultStore* store_;
  const ModelStore* models_;  // null: no model store
  RecipeCompute compute_;
  std::string data_digest_;   // with a model store: data_digest() of the training set and curve_test_
  ProgressReporter& progress_;
  Dataset curve_test_;  // The fixed test subset the per-epoch curves evaluate on.
  // Each seed's clean model: the probes' baseline.
  std::map<int, Classifier> clean_models_;
  StoredResults stored_;  // --resume: what the results file already holds
};

}  // namespace pbe
