#pragma once
#include <map>
#include <vector>

#include "core/data/dataset.h"
#include "core/random.h"
#include "distributed/process_group.h"
#include "launcher/plan.h"
#include "launcher/progress_reporter.h"
#include "launcher/spec.h"
#include "storage/records.h"
#include "storage/result_store.h"

namespace pbe {

// Runs one cell on a process group: poison, train the infected model (data-parallel), evaluate,
// then each defense on a copy of it. Every rank of the group calls run() together; only the rank
// holding `store` (non-null) writes. A RunError (e.g. divergence) marks the unit failed and the
// cell goes on; other exceptions propagate.
class CellRunner {
 public:
  CellRunner(const ExperimentSpec& spec, const TrainTest& data, ProcessGroup& group,
             ResultStore* store, ProgressReporter& progress);
  std::vector<MatrixRow> run(const Cell& cell);

 private:
  // The observation probes on the infected model and, if its "none" cell ran, the seed's clean one.
  std::vector<ProbeRecord> run_probes(ClassifierImpl& infected, const Attack& attack, int seed);
  const ExperimentSpec& spec_;
  const TrainTest& data_;
  ProcessGroup& group_;
  ResultStore* store_;
  ProgressReporter& progress_;
  Dataset curve_test_;  // The fixed test subset the per-epoch curves evaluate on.
  // Each seed's clean model once its "none" cell has run: the probes' baseline for later cells.
  std::map<int, Classifier> clean_models_;
};

}  // namespace pbe
