#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/attacks/badnets.h"
#include "core/metrics/evaluation.h"
#include "core/metrics/formulas.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

TEST(Der, PerfectDefense) { EXPECT_DOUBLE_EQ(defense_effectiveness_rating(0.9, 1.0, 0.9, 0.0), 1.0); }

TEST(Der, NoChangeIsOneHalf) { EXPECT_DOUBLE_EQ(defense_effectiveness_rating(0.9, 0.95, 0.9, 0.95), 0.5); }

TEST(Der, AsrIncreaseIsNotRewardedNorPenalised) {
  // max(0, ASR_before - ASR_after) clips an increase to 0.
  EXPECT_DOUBLE_EQ(defense_effectiveness_rating(0.9, 0.2, 0.9, 0.6), 0.5);
}

TEST(Der, AccuracyGainIsNotRewarded) {
  EXPECT_DOUBLE_EQ(defense_effectiveness_rating(0.8, 1.0, 0.95, 0.5), 0.75);
}

TEST(Der, AccuracyLossIsPenalised) {
  EXPECT_DOUBLE_EQ(defense_effectiveness_rating(0.9, 1.0, 0.7, 0.0), (1.0 - 0.2 + 1.0) / 2.0);
}

TEST(Der, WorstCaseIsZero) { EXPECT_DOUBLE_EQ(defense_effectiveness_rating(1.0, 0.0, 0.0, 1.0), 0.0); }

TEST(Der, UndefinedAsrGivesNaN) {
  EXPECT_TRUE(std::isnan(defense_effectiveness_rating(0.9, NAN, 0.9, NAN)));
}

TEST(Rir, RobustAccuracyRecovered) {
  EXPECT_DOUBLE_EQ(robust_improvement_rating(0.9, 0.0, 0.88, 0.85), (0.85 - 0.02 + 1.0) / 2.0);
  EXPECT_DOUBLE_EQ(robust_improvement_rating(0.9, 0.5, 0.9, 0.4), 0.5);
  EXPECT_TRUE(std::isnan(robust_improvement_rating(0.9, NAN, 0.9, 0.4)));
}

// A "model" that predicts the target (0) when the bottom-right pixel is white, else class 1.
class CornerModel final : public ClassifierImpl {
 public:
  torch::Tensor features(const torch::Tensor& x) override {
    return x.select(1, 0).select(1, x.size(2) - 1).select(1, x.size(3) - 1).unsqueeze(1);
  }
  torch::Tensor head(const torch::Tensor& f) override {
    return torch::cat({f, 1 - f, torch::zeros_like(f)}, 1);
  }
};

TEST(Evaluation, AccAsrRaFollowTheDefinitions) {
  Dataset test;
  test.num_classes = 3;
  test.images = torch::zeros({6, 1, 5, 5}, torch::kByte);
  test.labels = torch::tensor({0, 1, 1, 2, 2, 2}, torch::kLong);
  BadNets attack({}, {1, 5, 5, 3});  // target 0, all-to-one
  CornerModel model;
  SingleProcessGroup group;
  auto m = evaluate_backdoor(model, test, attack, group);
  // Clean images: always class 1 -> 2 of 6 correct.
  EXPECT_DOUBLE_EQ(m.acc, 2.0 / 6.0);
  EXPECT_EQ(m.acc_denominator, 6);
  // ASR counts only non-target samples (5); the checkerboard's corner pixel is white -> class 0.
  EXPECT_EQ(m.asr_denominator, 5);
  EXPECT_DOUBLE_EQ(m.asr, 1.0);
  EXPECT_DOUBLE_EQ(m.ra, 0.0);
}

// All-to-all (metrics.md): every test sample counts, and a hit is the prediction (y + 1) mod C.
TEST(Evaluation, AllToAllAsrCountsTheMappedLabelOverEverySample) {
  Dataset test;
  test.num_classes = 3;
  test.images = torch::zeros({6, 1, 5, 5}, torch::kByte);
  test.labels = torch::tensor({0, 1, 1, 2, 2, 2}, torch::kLong);  // mapped: 1, 2, 2, 0, 0, 0
  BadNetsOptions o;
  o.mode = TargetMode::kAllToAll;
  BadNets attack(o, {1, 5, 5, 3});
  CornerModel model;  // triggered -> 0: a hit exactly for the three 2s
  SingleProcessGroup group;
  auto m = evaluate_backdoor(model, test, attack, group);
  EXPECT_EQ(m.asr_denominator, 6);
  EXPECT_DOUBLE_EQ(m.asr, 3.0 / 6.0);
  EXPECT_DOUBLE_EQ(m.ra, 1.0 / 6.0);  // the 0 stays 0
}

TEST(Evaluation, CleanModelHasNoAsr) {
  Dataset test;
  test.num_classes = 3;
  test.images = torch::zeros({4, 1, 5, 5}, torch::kByte);
  test.labels = torch::tensor({1, 1, 0, 2}, torch::kLong);
  CornerModel model;
  SingleProcessGroup group;
  auto m = evaluate_backdoor(model, test, NoAttack(), group);
  EXPECT_DOUBLE_EQ(m.acc, 0.5);
  EXPECT_TRUE(std::isnan(m.asr));
  EXPECT_TRUE(std::isnan(m.ra));
}

}  // namespace
