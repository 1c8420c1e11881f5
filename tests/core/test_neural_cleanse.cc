// Neural Cleanse: the MAD anomaly index, and the whole defense on a small BadNets-infected model:
// the smallest reversed trigger is the target's, the target alone is flagged, and unlearning that
// trigger removes the backdoor.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/attacks/badnets.h"
#include "core/data/synthetic.h"
#include "core/defenses/neural_cleanse.h"
#include "core/errors.h"
#include "core/metrics/evaluation.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

TEST(NeuralCleanse, AnomalyIndexIsTheMadScore) {
  // Median 42.5; deviations 39.5 2.5 2.5 7.5, whose median is 5, so MAD = 1.4826 * 5.
  auto index = anomaly_indices(torch::tensor({3.0f, 40.0f, 45.0f, 50.0f}));
  const double mad = 1.4826 * 5;
  EXPECT_NEAR(index[0].item<float>(), 39.5 / mad, 1e-4);
  EXPECT_NEAR(index[1].item<float>(), 2.5 / mad, 1e-4);
  EXPECT_NEAR(index[3].item<float>(), 7.5 / mad, 1e-4);
  // Odd count: the middle value is the median; equal values score 0.
  auto odd = anomaly_indices(torch::tensor({1.0f, 2.0f, 2.0f, 4.0f, 10.0f}));
  EXPECT_NEAR(odd[1].item<float>(), 0.0f, 1e-6);
  EXPECT_NEAR(odd[4].item<float>(), 8.0 / 1.4826, 1e-4);  // deviations 1 0 0 2 8: MAD 1.4826
}

TEST(NeuralCleanse, WorkEstimateCountsEveryClass) {
  NeuralCleanseOptions o;  // 80 epochs per class at most, then 10 unlearning epochs, on 50 clean rows
  EXPECT_DOUBLE_EQ(NeuralCleanse(o).estimated_image_epochs({1000, 50, 5}), 50.0 * (5 * 80 + 10));
  EXPECT_DOUBLE_EQ(NeuralCleanse(o).estimated_image_epochs({1000, 50, 43}), 50.0 * (43 * 80 + 10));
}

TEST(NeuralCleanse, RejectsBadOptions) {
  NeuralCleanseOptions o;
  o.attack_success_threshold = 1.5;
  EXPECT_THROW(NeuralCleanse{o}, ConfigError);
  o = {};
  o.cost_multiplier = 1.0;
  EXPECT_THROW(NeuralCleanse{o}, ConfigError);
  o = {};
  o.unlearn_fraction = 0;
  EXPECT_THROW(NeuralCleanse{o}, ConfigError);
}

TEST(NeuralCleanse, FlagsTheTargetOfABadNetsModelAndUnlearnsItsTrigger) {
  SyntheticOptions so;
  so.size = 16;
  so.num_classes = 5;
  so.train_size = 2000;
  so.test_size = 400;
  so.noise = 0.05;
  const TrainTest data = make_synthetic(so);
  SingleProcessGroup group;
  ModelOptions m;
  m.image_size = 16;
  m.num_classes = 5;
  m.width = 8;
  TrainOptions t;
  t.epochs = 8;
  t.lr = 0.02;
  t.batch_size = 64;
  t.seed = 11;
  BadNetsOptions bo;
  bo.target = 3;
  BadNets attack(bo, data.train.shape());
  AttackContext actx{data.train, m, t, group, 0, {}, {}};
  torch::manual_seed(0);
  Classifier model = make_model(m);
  attack.prepare(actx);
  attack.infect(*model, actx);
  const auto before = evaluate_backdoor(*model, data.test, attack, group);
  ASSERT_GE(before.asr, 0.9) << "the backdoor is in (precondition)";

  NeuralCleanseOptions o;
  o.epochs = 30;
  o.unlearn_epochs = 5;
  const Dataset clean = data.test.subset(torch::arange(200));
  const Dataset held_out = data.test.subset(torch::arange(200, 400));
  DefenseContext ctx{data.train, clean, {}, group, 4, {}, {}, {}};
  DefenseResult r = NeuralCleanse(o).purify(*model, ctx);
  ASSERT_EQ(r.steps.size(), 6u);
  const auto& norm = r.steps[1].second;
  const auto& index = r.steps[2].second;
  const auto& flagged = r.steps[3].second;
  std::string table;
  for (int k = 0; k < 5; ++k)
    table += "class " + std::to_string(k) + ": norm " + std::to_string(norm[k]) + " index " +
             std::to_string(index[k]) + " success " + std::to_string(r.steps[4].second[k]) + "\n";
  SCOPED_TRACE(table);
  for (int k = 0; k < 5; ++k) {
    if (k == bo.target) continue;
    EXPECT_LT(norm[bo.target], norm[k]) << "the target's trigger is the smallest";
    EXPECT_EQ(flagged[k], 0.0) << "class " << k;
  }
  EXPECT_EQ(flagged[bo.target], 1.0);
  EXPECT_GT(index[bo.target], 2.0);
  EXPECT_GE(r.steps[4].second[bo.target], 0.99) << "the reversed trigger works";
  const auto after = evaluate_backdoor(*model, held_out, attack, group);
  EXPECT_LT(after.asr, 0.2) << "unlearning removed the backdoor (ASR " << before.asr << " -> " << after.asr << ")";
  EXPECT_GE(after.acc, before.acc - 0.05);
}

}  // namespace
