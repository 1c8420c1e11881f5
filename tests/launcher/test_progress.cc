// The work a run's progress counts against, and what the reporter makes of it: a --resume run's
// ETA covers only what is left (the prior run left 4 of 6 cells done and showed "done 0%, ETA 4h24m"
// for 1.5 hours of work).
#include <gtest/gtest.h>

#include "launcher/plan.h"
#include "launcher/progress_reporter.h"
#include "launcher/spec.h"

using namespace pbe;

namespace {

const char* kSpec = R"(name: t
output: out/t.h5
dataset:
  name: synthetic
  synthetic: {classes: 4, size: 12, train: 64, test: 32}
model: {name: small-cnn, width: 8}
training: {epochs: 2, lr: 0.05}
attacks: [none, {name: badnets, poison_rate: 0.2, target: 3}]
defenses: [none, {name: ft, epochs: 3}]
seeds: [0, 1]
)";

MatrixRow row(const CellKey& key, const std::string& defense) {
  MatrixRow r;
  r.dataset = key.dataset;
  r.model = key.model;
  r.attack = key.attack;
  r.seed = key.seed;
  r.defense = defense;
  r.status = Status::kDone;
  return r;
}

}  // namespace

TEST(ProgressWork, AResumedRunCountsOnlyTheUnitsTheFileLacks) {
  const ExperimentSpec spec = parse_spec_text(kSpec, "spec.yaml");
  const Plan plan = make_plan(spec, 64, 4);
  ASSERT_EQ(plan.cells.size(), 4u);
  const Cell& c = plan.cells[2];  // badnets seed 0
  ASSERT_EQ(c.key.attack, "badnets");
  EXPECT_DOUBLE_EQ(c.attack_image_epochs, 2 * 64.0);
  ASSERT_EQ(c.defense_image_epochs.size(), 2u);
  EXPECT_DOUBLE_EQ(c.defense_image_epochs[0], 0.0);  // "none"
  EXPECT_DOUBLE_EQ(c.defense_image_epochs[1], 3 * 3.0);  // FT: 3 epochs on 5% of 64 rows, 3
  EXPECT_GT(c.defense_image_epochs[1], 0.0);
  EXPECT_DOUBLE_EQ(c.image_epochs, c.attack_image_epochs + c.defense_image_epochs[0] + c.defense_image_epochs[1]);

  const std::vector<int> all{0, 1, 2, 3};
  EXPECT_DOUBLE_EQ(plan.image_epochs_to_run(all, {}), plan.total_image_epochs());
  EXPECT_DOUBLE_EQ(plan.image_epochs_to_run({1, 3}, {}), plan.cells[1].image_epochs + plan.cells[3].image_epochs);

  StoredResults stored;
  for (const auto& d : plan.defenses) stored.rows.push_back(row(plan.cells[0].key, d));  // cell 1 whole
  stored.attacks[plan.cells[0].key.group_path()].status = Status::kDone;
  stored.attacks[c.key.group_path()].status = Status::kDone;  // cell 3: the attack and "none" are held
  stored.rows.push_back(row(c.key, "none"));
  EXPECT_DOUBLE_EQ(plan.image_epochs_to_run(all, stored),
                   plan.cells[1].image_epochs + c.defense_image_epochs[1] + plan.cells[3].image_epochs);
  // A failed attack is stored with a failed row per defense: the cell is not run again.
  StoredResults failed;
  failed.attacks[c.key.group_path()].status = Status::kFailed;
  for (const auto& d : plan.defenses) failed.rows.push_back(row(c.key, d));
  EXPECT_DOUBLE_EQ(plan.image_epochs_to_run({2}, failed), 0.0);
  // A row of another seed does not count for this cell.
  StoredResults other;
  other.rows.push_back(row(plan.cells[3].key, "ft"));
  EXPECT_DOUBLE_EQ(plan.image_epochs_to_run({2}, other), c.image_epochs);
}

TEST(ProgressWork, CheckpointedEpochsCountAsDoneButNotAsThroughput) {
  ProgressReporter p(/*enabled=*/false, /*total_image_epochs=*/1000);
  EXPECT_EQ(p.eta_seconds(10), -1);  // no work yet: no rate
  // A training resumed at epoch 3 of 5 (100 images each): 300 passes held by the checkpoint.
  p.on_event({"train", 3, 5, 1, 1, 100, 300});
  EXPECT_DOUBLE_EQ(p.fraction_done(), 0.4);
  EXPECT_DOUBLE_EQ(p.eta_seconds(10), 600 / 10.0);  // 600 left at 10 passes/s: the 100 run, not the 300 resumed
  p.on_event({"train", 4, 5, 1, 1, 200, 300});  // the same phase: the credit is not taken twice
  EXPECT_DOUBLE_EQ(p.fraction_done(), 0.5);
  p.on_event({"finetune", 0, 5, 1, 1, 500, 0});
  EXPECT_DOUBLE_EQ(p.fraction_done(), 1.0);
  EXPECT_DOUBLE_EQ(p.eta_seconds(20), 0.0);
  p.on_event({"finetune", 0, 5, 1, 1, 600, 0});  // past the estimate: capped, not over 100%
  EXPECT_DOUBLE_EQ(p.fraction_done(), 1.0);
}
