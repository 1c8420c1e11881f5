#pragma once
#include <string>
#include <vector>

#include "launcher/spec.h"
#include "storage/records.h"
#include "storage/result_store.h"

namespace pbe {

// One cell of the matrix: an attack (with the clean "none" row) at one seed, and all defenses.
struct Cell {
  int index = 0;  // 0-based position in the plan
  CellKey key;
  const AttackEntry* attack = nullptr;
  // Work estimate in image-epochs (training images x epochs): the attack's training, each
  // defense's (in plan.defenses order), and their sum.
  double attack_image_epochs = 0;
  std::vector<double> defense_image_epochs;
  double image_epochs = 0;
};

struct Plan {
  std::vector<Cell> cells;
  std::vector<std::string> defenses;  // Defense ids in spec order: each cell's rows.
  double total_image_epochs() const;
  // The work of the cells at `selected` positions, less the units `stored` already holds (what a
  // --resume run skips): the total a run's progress and ETA count against.
  double image_epochs_to_run(const std::vector<int>& selected, const StoredResults& stored) const;
};

// Cells in spec order: attacks outer, seeds inner. `train_size` (after subsetting) and
// `num_classes` size the work estimate.
Plan make_plan(const ExperimentSpec& spec, int64_t train_size, int num_classes);

// `rows` in plan order: by their cell's position, then their defense's (the order one group
// running every cell writes them in).
std::vector<MatrixRow> in_plan_order(std::vector<MatrixRow> rows, const Plan& plan);

// The plan positions a `--cells` list selects: 1-based numbers and ranges ("1,3-4"), or "k/n":
// slice k of n (cells k, k + n, k + 2n, ...; a job array's task k of n). ConfigError for anything
// else or a number outside 1..cells. Empty list: every cell.
std::vector<int> select_cells(const std::string& list, int cells);

// Human-readable plan (what `pbe_dist plan` prints).
std::string describe_plan(const ExperimentSpec& spec, const Plan& plan, int64_t train_size, int ranks);

}  // namespace pbe
