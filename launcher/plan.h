#pragma once
#include <string>
#include <vector>

#include "launcher/spec.h"
#include "storage/records.h"

namespace pbe {

// One cell of the matrix: an attack (with the clean "none" row) at one seed, and all defenses.
struct Cell {
  int index = 0;  // 0-based position in the plan
  CellKey key;
  const AttackEntry* attack = nullptr;
  // Work estimate in image-epochs (training images x epochs, attack training plus defenses).
  double image_epochs = 0;
};

struct Plan {
  std::vector<Cell> cells;
  double total_image_epochs() const;
};

// Cells in spec order: attacks outer, seeds inner. `train_size` (after subsetting) and
// `num_classes` size the work estimate.
Plan make_plan(const ExperimentSpec& spec, int64_t train_size, int num_classes);

// Human-readable plan (what `pbe_dist plan` prints).
std::string describe_plan(const ExperimentSpec& spec, const Plan& plan, int64_t train_size, int ranks);

}  // namespace pbe
