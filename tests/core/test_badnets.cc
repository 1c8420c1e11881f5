#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/attacks/badnets.h"
#include "core/data/synthetic.h"
#include "core/errors.h"

using namespace pbe;

namespace {

ImageShape shape(int classes) { return {1, 8, 8, classes}; }

Dataset toy_set(int64_t n, int classes) {
  Dataset d;
  d.name = "toy";
  d.num_classes = classes;
  d.images = torch::full({n, 1, 8, 8}, 128, torch::kByte);
  d.labels = torch::arange(n, torch::kLong).remainder(classes);
  return d;
}

TEST(BadNets, CheckerboardInBottomRightCorner) {
  BadNets attack({}, {3, 10, 10, 10});
  auto x = torch::full({1, 3, 10, 10}, 0.5);
  auto y = attack.apply_trigger(x);
  // Rows/cols 7..9 hold the 3x3 checkerboard: white where (i + j) is even.
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int c = 0; c < 3; ++c)
        EXPECT_FLOAT_EQ(y[0][c][7 + i][7 + j].item<float>(), (i + j) % 2 == 0 ? 1.0f : 0.0f);
  // Everything else untouched.
  EXPECT_TRUE(y.narrow(2, 0, 7).eq(0.5).all().item<bool>());
  EXPECT_TRUE(y.narrow(3, 0, 7).eq(0.5).all().item<bool>());
}

TEST(BadNets, PositionSizeMarginAndSquare) {
  BadNetsOptions o;
  o.pattern = "square";
  o.size = 2;
  o.placement.position = "top-left";
  o.placement.margin = 1;
  BadNets attack(o, shape(10));
  auto mask = attack.mask(6, 6);
  EXPECT_EQ(mask.sum().item<float>(), 4.0f);
  EXPECT_EQ(mask[1][1].item<float>(), 1.0f);
  EXPECT_EQ(mask[2][2].item<float>(), 1.0f);
  EXPECT_EQ(mask[0][0].item<float>(), 0.0f);
  auto y = attack.apply_trigger(torch::zeros({1, 1, 6, 6}));
  EXPECT_EQ(y.sum().item<float>(), 4.0f);
}

// amplitude a blends the patch in: a * patch + (1 - a) * image inside it, the image elsewhere.
TEST(BadNets, AmplitudeBlendsThePatchIn) {
  BadNetsOptions o;
  o.amplitude = 0.25;
  BadNets attack(o, shape(10));
  auto y = attack.apply_trigger(torch::full({1, 1, 6, 6}, 0.5));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_FLOAT_EQ(y[0][0][3 + i][3 + j].item<float>(), (i + j) % 2 == 0 ? 0.625f : 0.375f);
  EXPECT_TRUE(y.narrow(2, 0, 3).eq(0.5).all().item<bool>());
  const auto artifacts = attack.artifacts(1, 6, 6);
  ASSERT_EQ(artifacts[1].first, "trigger_mask");
  EXPECT_FLOAT_EQ(artifacts[1].second.max().item<float>(), 0.25f);
  o.amplitude = 0;
  EXPECT_THROW(BadNets(o, shape(10)), ConfigError);
  o.amplitude = 1.5;
  EXPECT_THROW(BadNets(o, shape(10)), ConfigError);
}

TEST(BadNets, AllToOnePoisonsExactCountOfNonTargetSamples) {
  BadNetsOptions o;
  o.poison_rate = 0.1;
  o.target = 2;
  BadNets attack(o, shape(5));
  Dataset clean = toy_set(1000, 5);
  PoisonedDataset p = attack.poison(clean, 7);
  auto mask = p.poison_mask;
  EXPECT_EQ(mask.sum().item<int64_t>(), 100);
  // Poisoned rows: label = target, original label was not the target, trigger stamped.
  auto rows = mask.nonzero().squeeze(1);
  EXPECT_TRUE(p.data.labels.index_select(0, rows).eq(2).all().item<bool>());
  EXPECT_TRUE(clean.labels.index_select(0, rows).ne(2).all().item<bool>());
  EXPECT_EQ(p.data.images.index_select(0, rows)[0][0][7][7].item<int>(), 255);
  EXPECT_EQ(p.data.images.index_select(0, rows)[0][0][7][6].item<int>(), 0);
  // Clean rows: untouched, and the input dataset itself is not modified.
  auto keep = mask.logical_not().nonzero().squeeze(1);
  EXPECT_TRUE(p.data.images.index_select(0, keep).eq(clean.images.index_select(0, keep)).all().item<bool>());
  EXPECT_TRUE(p.data.labels.index_select(0, keep).eq(clean.labels.index_select(0, keep)).all().item<bool>());
  EXPECT_TRUE(clean.images.eq(128).all().item<bool>());
}

TEST(BadNets, SameSeedSamePoisonDifferentSeedDifferent) {
  BadNets attack({}, shape(5));
  Dataset clean = toy_set(500, 5);
  auto a = attack.poison(clean, 1).poison_mask;
  auto b = attack.poison(clean, 1).poison_mask;
  auto c = attack.poison(clean, 2).poison_mask;
  EXPECT_TRUE(a.eq(b).all().item<bool>());
  EXPECT_FALSE(a.eq(c).all().item<bool>());
}

TEST(BadNets, AllToAllShiftsLabelsAndCountsEverySample) {
  BadNetsOptions o;
  o.mode = TargetMode::kAllToAll;
  o.poison_rate = 0.2;
  BadNets attack(o, shape(4));
  Dataset clean = toy_set(400, 4);
  PoisonedDataset p = attack.poison(clean, 3);
  auto rows = p.poison_mask.nonzero().squeeze(1);
  EXPECT_EQ(rows.numel(), 80);
  EXPECT_TRUE(p.data.labels.index_select(0, rows)
                  .eq((clean.labels.index_select(0, rows) + 1).remainder(4))
                  .all()
                  .item<bool>());
  EXPECT_TRUE(attack.asr_mask(clean.labels).all().item<bool>());
}

TEST(BadNets, AsrMaskExcludesTargetClass) {
  BadNetsOptions o;
  o.target = 1;
  BadNets attack(o, shape(3));
  auto mask = attack.asr_mask(torch::tensor({0, 1, 2, 1}, torch::kLong));
  EXPECT_EQ(mask.sum().item<int64_t>(), 2);
  EXPECT_FALSE(mask[1].item<bool>());
}

TEST(BadNets, RejectsBadOptions) {
  BadNetsOptions o;
  o.target = 10;
  EXPECT_THROW(BadNets(o, shape(10)), ConfigError);
  o = {};
  o.poison_rate = 0;
  EXPECT_THROW(BadNets(o, shape(10)), ConfigError);
  o = {};
  o.pattern = "stripes";
  EXPECT_THROW(BadNets(o, shape(10)), ConfigError);
  o = {};
  o.placement.position = "middle";
  EXPECT_THROW(BadNets(o, shape(10)), ConfigError);
  o = {};
  o.size = 9;  // Larger than the 8x8 images.
  EXPECT_THROW(BadNets(o, shape(10)), ConfigError);
}

}  // namespace
