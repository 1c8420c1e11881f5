// AFT and PBE: their building blocks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/defenses/aft.h"
#include "core/defenses/pbe.h"
#include "core/errors.h"

using namespace pbe;

namespace {

TEST(PbeScore, CosineScoreIsOneForSameDirectionZeroForOpposite) {
  auto a = torch::tensor({{1.0f, 2.0f}, {1.0f, 0.0f}, {3.0f, -1.0f}});
  auto b = torch::tensor({{2.0f, 4.0f}, {-5.0f, 0.0f}, {1.0f, 3.0f}});
  auto s = cosine_scores(a, b);
  EXPECT_NEAR(s[0].item<float>(), 1.0f, 1e-6);
  EXPECT_NEAR(s[1].item<float>(), 0.0f, 1e-6);
  EXPECT_NEAR(s[2].item<float>(), 0.5f, 1e-6);  // orthogonal
}

TEST(PbeScore, TopFractionKeepsTheHighestScores) {
  auto scores = torch::tensor({0.1f, 0.9f, 0.5f, 0.9f, 0.3f, 0.7f, 0.2f, 0.8f, 0.4f, 0.6f});
  auto top = top_fraction(scores, 0.3);
  EXPECT_TRUE(torch::equal(top, torch::tensor({1, 3, 7}, torch::kLong)));
  // Ties go to the lower row, and the fraction rounds to a row count.
  auto ties = top_fraction(torch::ones({5}), 0.4);
  EXPECT_TRUE(torch::equal(ties, torch::tensor({0, 1}, torch::kLong)));
  EXPECT_EQ(top_fraction(scores, 1.0).numel(), 10);
}

TEST(PbeOptions, FractionsMustMatchSteps) {
  PbeOptions o;
  o.steps = 3;
  EXPECT_THROW(Pbe{o}, ConfigError);
  o.fractions = {0.2, 0.5};
  EXPECT_NO_THROW(Pbe{o});
  o.fractions = {0.2, 1.5};
  EXPECT_THROW(Pbe{o}, ConfigError);
  AftOptions a;
  a.adversarial_epochs = 30;
  EXPECT_THROW(Aft{a}, ConfigError);
}

TEST(AdversarialTransform, OnlyWhereAskedAndWithinEps) {
  torch::manual_seed(0);
  ModelOptions m;
  m.image_size = 12;
  m.num_classes = 4;
  m.width = 8;
  Classifier model = make_model(m);
  PgdOptions pgd;
  auto t = adversarial_transform(pgd, 1, [](int epoch, int64_t batch) { return epoch == 0 && batch < 2; });
  auto x = torch::rand({4, 1, 12, 12});
  auto y = torch::tensor({0, 1, 2, 3}, torch::kLong);
  EXPECT_TRUE(torch::equal(t(*model, x, y, 0, 5), x));
  EXPECT_TRUE(torch::equal(t(*model, x, y, 1, 0), x));
  auto adv = t(*model, x, y, 0, 1);
  EXPECT_FALSE(torch::equal(adv, x));
  EXPECT_LE((adv - x).abs().max().item<float>(), pgd.eps + 1e-6);
}

}  // namespace
