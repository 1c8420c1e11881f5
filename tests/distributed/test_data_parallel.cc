// Data-parallel training on N ranks must train the same model as on one rank.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/attacks/badnets.h"
#include "core/data/synthetic.h"
#include "core/errors.h"
#include "core/metrics/evaluation.h"
#include "core/models/classifier.h"
#include "core/training/data_parallel.h"
#include "core/training/trainer.h"
#include "distributed/single_process_group.h"
#include "tests/distributed/mpi_test_env.h"

using namespace pbe;
using pbe::testing::g_world;

namespace {

ModelOptions tiny_cnn() {
  ModelOptions m;
  m.in_channels = 1;
  m.image_size = 12;
  m.num_classes = 4;
  m.width = 8;
  return m;
}

Classifier seeded_model(uint64_t seed) {
  torch::manual_seed(seed);
  return make_model(tiny_cnn());
}

double max_param_diff(ClassifierImpl& a, ClassifierImpl& b) {
  double diff = 0;
  auto pa = a.parameters(), pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i) diff = std::max(diff, (pa[i] - pb[i]).abs().max().item<double>());
  return diff;
}

TEST(DataParallel, ShardRangesCoverEveryItemOnce) {
  for (int size : {1, 2, 3, 4, 7}) {
    int64_t next = 0;
    for (int r = 0; r < size; ++r) {
      auto [lo, hi] = shard_range(30, r, size);
      EXPECT_EQ(lo, next);
      EXPECT_LE(hi - lo, 30 / size + 1);
      next = hi;
    }
    EXPECT_EQ(next, 30);
  }
}

TEST(DataParallel, TrainingMatchesOneRank) {
  SyntheticOptions so;
  so.train_size = 200;  // 200 = 6 x 30 + 20: a partial last batch, shards of unequal size
  TrainTest data = make_synthetic(so);
  TrainOptions o;
  o.epochs = 2;
  o.batch_size = 30;
  o.lr = 0.05;
  o.augmentation = {2, true};
  o.seed = 11;

  auto group = g_world->make_process_group();
  Classifier distributed = seeded_model(5 + g_world->rank());  // different init per rank:
  auto curve = train_classifier(*distributed, data.train, o, *group);  // rank 0's must win
  SingleProcessGroup single;
  Classifier reference = seeded_model(5);
  auto ref_curve = train_classifier(*reference, data.train, o, single);

  EXPECT_LT(max_param_diff(*distributed, *reference), 1e-4);
  ASSERT_EQ(curve.size(), ref_curve.size());
  for (size_t e = 0; e < curve.size(); ++e) {
    EXPECT_NEAR(curve[e].loss, ref_curve[e].loss, 1e-4);
    EXPECT_NEAR(curve[e].train_acc, ref_curve[e].train_acc, 1e-9);
  }
  // It did train.
  Classifier untrained = seeded_model(5);
  EXPECT_GT(max_param_diff(*distributed, *untrained), 1e-2);
  // And every rank holds the same weights.
  auto checksum = torch::zeros({1}, torch::kDouble);
  for (auto& p : distributed->parameters()) checksum += p.to(torch::kDouble).abs().sum();
  auto all = group->allgather(checksum);
  EXPECT_TRUE(all.eq(all[0]).all().item<bool>());
}

// PreAct-ResNet-18 has batch norm: each rank updates its running statistics from its own share of
// every batch (as PyTorch DDP without SyncBatchNorm), so N ranks cannot match one rank exactly.
// What must hold: every rank ends with the same model, parameters and buffers alike, so that a
// sharded evaluation does not depend on which rank saw which image, and it learns as one rank does.
TEST(DataParallel, BatchNormModelIsTheSameOnEveryRank) {
  SyntheticOptions so;
  so.train_size = 203;  // shards of unequal size
  so.test_size = 64;
  TrainTest data = make_synthetic(so);
  ModelOptions m = tiny_cnn();
  m.name = "preact-resnet18";
  m.width = 4;
  TrainOptions o;
  o.epochs = 5;
  o.batch_size = 32;
  o.lr = 0.05;
  o.seed = 4;
  auto group = g_world->make_process_group();
  torch::manual_seed(7);
  Classifier model = make_model(m);
  train_classifier(*model, data.train, o, *group);
  ASSERT_FALSE(model->buffers().empty());
  const auto same_on_every_rank = [&](const at::Tensor& t) {
    auto mine = t.to(torch::kDouble).reshape({1, -1});
    auto all = group->allgather(mine);
    return all.eq(all[0]).all().item<bool>();
  };
  for (const auto& b : model->named_buffers()) EXPECT_TRUE(same_on_every_rank(b.value())) << b.key();
  for (const auto& p : model->named_parameters()) EXPECT_TRUE(same_on_every_rank(p.value())) << p.key();
  SingleProcessGroup single;
  EXPECT_TRUE(same_on_every_rank(predict(*model, data.test.images, single).to(torch::kDouble)));
  torch::manual_seed(7);
  Classifier alone = make_model(m);
  train_classifier(*alone, data.train, o, single);
  const double acc = evaluate_backdoor(*model, data.test, NoAttack(), *group).acc;
  const double acc_alone = evaluate_backdoor(*alone, data.test, NoAttack(), single).acc;
  EXPECT_GT(acc, 0.8) << "one rank: " << acc_alone;
  EXPECT_GT(acc_alone, 0.8);
}

TEST(DataParallel, ShardedPredictionMatchesOneRank) {
  SyntheticOptions so;
  so.test_size = 77;
  TrainTest data = make_synthetic(so);
  Classifier model = seeded_model(3);
  auto group = g_world->make_process_group();
  broadcast_model(*model, *group);
  SingleProcessGroup single;
  auto sharded = predict(*model, data.test.images, *group);
  auto local = predict(*model, data.test.images, single);
  EXPECT_TRUE(sharded.eq(local).all().item<bool>());
  BadNets attack({}, data.test.shape());
  auto a = evaluate_backdoor(*model, data.test, attack, *group);
  auto b = evaluate_backdoor(*model, data.test, attack, single);
  EXPECT_DOUBLE_EQ(a.acc, b.acc);
  EXPECT_DOUBLE_EQ(a.asr, b.asr);
  EXPECT_EQ(a.asr_denominator, b.asr_denominator);
}

TEST(Training, LearnsTheSyntheticTask) {
  TrainTest data = make_synthetic({});
  auto group = g_world->make_process_group();
  Classifier model = seeded_model(1);
  TrainOptions o;
  o.epochs = 3;
  o.batch_size = 32;
  o.lr = 0.02;
  train_classifier(*model, data.train, o, *group);
  auto m = evaluate_backdoor(*model, data.test, NoAttack(), *group);
  EXPECT_GT(m.acc, 0.9);
}

TEST(Training, DivergenceIsARunErrorOnEveryRank) {
  TrainTest data = make_synthetic({});
  auto group = g_world->make_process_group();
  Classifier model = seeded_model(1);
  TrainOptions o;
  o.epochs = 2;
  o.lr = 1e6;
  EXPECT_THROW(train_classifier(*model, data.train, o, *group), RunError);
}

}  // namespace
