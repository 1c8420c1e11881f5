// Defense work spread over ranks gives every rank the result one rank would compute.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/attacks/badnets.h"
#include "core/data/synthetic.h"
#include "core/defenses/aft.h"
#include "core/defenses/anp.h"
#include "core/defenses/fine_pruning.h"
#include "core/defenses/fine_tuning.h"
#include "core/defenses/ibau.h"
#include "core/defenses/mcr.h"
#include "core/defenses/fst.h"
#include "core/defenses/ft_sam.h"
#include "core/defenses/sau.h"
#include "core/defenses/nad.h"
#include "core/defenses/neural_cleanse.h"
#include "core/defenses/pbe.h"
#include "core/models/classifier.h"
#include "distributed/single_process_group.h"
#include "tests/distributed/mpi_test_env.h"

using namespace pbe;
using pbe::testing::g_world;

namespace {

// PBE's sharded pieces (adversarial batches, data-parallel fine-tuning, the scoring pass) on this
// run's rank count against the same PBE on one rank: the same selection at every step, the same
// weights up to float summation order.
TEST(PbeDistributed, SameSelectionAndModelOnAnyRankCount) {
  SyntheticOptions so;
  so.size = 12;
  so.train_size = 203;  // not a multiple of the rank count or the batch
  TrainTest data = make_synthetic(so);
  BadNets attack({}, data.train.shape());
  Dataset poisoned = attack.poison(data.train, 1).data;
  ModelOptions m;
  m.image_size = 12;
  m.num_classes = 4;
  m.width = 8;
  torch::manual_seed(6);
  Classifier infected = make_model(m);
  PbeOptions o;
  o.initial_fraction = 0.2;
  o.steps = 3;
  o.epochs_per_step = 2;
  o.adversarial_batches = 2;
  o.fractions = {0.4, 0.7};
  o.pgd.eps = 16.0 / 255;  // large enough to flip predictions, so the adversarial batches matter
  o.pgd.step_size = o.pgd.eps / 5;
  o.sgd.batch_size = 32;
  o.sgd.lr = 0.05;

  auto run = [&](ProcessGroup& group) {
    Classifier model = clone_model(*infected, m);
    DefenseContext ctx{poisoned, Dataset{}, {}, group, 8, {}, {}, {}};
    DefenseResult r = Pbe(o).purify(*model, ctx);
    return std::make_pair(model, r);
  };
  auto group = g_world->make_process_group();
  SingleProcessGroup single;
  auto [spread_model, spread] = run(*group);
  auto [alone_model, alone] = run(single);

  EXPECT_TRUE(torch::equal(spread.selected, alone.selected));
  ASSERT_EQ(spread.steps.size(), alone.steps.size());
  EXPECT_EQ(spread.steps[1].first, "size");
  EXPECT_EQ(spread.steps[1].second, alone.steps[1].second);
  auto a = spread_model->parameters(), b = alone_model->parameters();
  ASSERT_EQ(a.size(), b.size());
  double moved = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-4, 1e-5)) << "parameter " << i;
    moved += (a[i] - infected->parameters()[i]).abs().max().item<double>();
  }
  EXPECT_GT(moved, 1e-3) << "PBE changed the model";
}

// The baseline defenses' sharded work (data-parallel fine-tuning, pruning and distillation, AFT's
// adversarial batches, ANP's and I-BAU's batch-split gradients, NC's classes spread over ranks)
// against one rank: the same records and the same weights up to float summation order.
class BaselineDistributed : public ::testing::Test {
 protected:
  void expect_rank_count_independent(const Defense& defense) {
    SyntheticOptions so;
    so.size = 12;
    so.train_size = 203;
    so.test_size = 101;  // the clean extra set: not a multiple of the rank count or the batch
    TrainTest data = make_synthetic(so);
    ModelOptions m;
    m.image_size = 12;
    m.num_classes = 4;
    m.width = 4;
    torch::manual_seed(9);
    Classifier infected = make_model(m);
    TrainOptions t;  // a trained model: a random one's near-zero gradients make ANP's signs a coin toss
    t.epochs = 3;
    t.batch_size = 32;
    SingleProcessGroup trainer;
    train_classifier(*infected, data.train, t, trainer);
    auto run = [&](ProcessGroup& group) {
      Classifier model = clone_model(*infected, m);
      DefenseContext ctx{data.train, data.test, {}, group, 8, {}, {}, {}};
      DefenseResult r = defense.purify(*model, ctx);
      return std::make_pair(model, r);
    };
    auto group = g_world->make_process_group();
    SingleProcessGroup single;
    auto [spread_model, spread] = run(*group);
    auto [alone_model, alone] = run(single);
    for (const auto& [x, y] : {std::make_pair(&spread.steps, &alone.steps), std::make_pair(&spread.neurons, &alone.neurons)}) {
      ASSERT_EQ(x->size(), y->size());
      for (size_t c = 0; c < x->size(); ++c) {
        const auto &a = (*x)[c].second, &b = (*y)[c].second;
        ASSERT_EQ(a.size(), b.size()) << (*x)[c].first;
        for (size_t i = 0; i < a.size(); ++i)
          EXPECT_NEAR(a[i], b[i], 1e-3 * (1 + std::abs(b[i]))) << defense.name() << " " << (*x)[c].first << " row " << i;
      }
    }
    auto a = spread_model->parameters(), b = alone_model->parameters();
    double moved = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-4, 1e-5)) << defense.name() << " parameter " << i;
      moved += (a[i] - infected->parameters()[i]).abs().max().item<double>();
    }
    EXPECT_GT(moved, 1e-4) << defense.name() << " changed the model";
  }
};

TEST_F(BaselineDistributed, FineTuning) {
  FineTuningOptions o;
  o.epochs = 2;
  o.sgd.batch_size = 32;
  expect_rank_count_independent(FineTuning(o));
}

TEST_F(BaselineDistributed, Fst) {
  FstOptions o;
  o.epochs = 2;
  o.sgd.batch_size = 32;
  expect_rank_count_independent(Fst(o));
}

TEST_F(BaselineDistributed, FtSam) {  // both passes' gradients are global: the same e on every rank
  FtSamOptions o;
  o.epochs = 2;
  o.batch_size = 32;
  expect_rank_count_independent(FtSam(o));
}

TEST_F(BaselineDistributed, Sau) {  // per-image perturbations, a global early stop, global step records
  SauOptions o;
  o.rounds = 2;
  o.batch_size = 32;
  o.lr = 1e-3;
  expect_rank_count_independent(Sau(o));
}

TEST_F(BaselineDistributed, FinePruning) {
  FinePruningOptions o;
  o.epochs = 2;
  o.sgd.batch_size = 32;
  expect_rank_count_independent(FinePruning(o));
}

TEST_F(BaselineDistributed, Aft) {
  AftOptions o;
  o.epochs = 3;
  o.adversarial_epochs = 2;
  o.sgd.batch_size = 32;
  o.sgd.lr = 0.05;
  expect_rank_count_independent(Aft(o));
}

TEST_F(BaselineDistributed, Nad) {
  NadOptions o;
  o.teacher_epochs = 2;
  o.epochs = 2;
  o.sgd.batch_size = 32;
  expect_rank_count_independent(Nad(o));
}

TEST_F(BaselineDistributed, Anp) {
  AnpOptions o;
  o.iterations = 8;
  o.batch_size = 32;
  o.prune_by = "count";
  o.count = 4;
  expect_rank_count_independent(Anp(o));
}

TEST_F(BaselineDistributed, Ibau) {
  IbauOptions o;
  o.rounds = 2;
  o.batch_size = 32;
  o.patched_fraction = 0.2;
  expect_rank_count_independent(Ibau(o));
}

TEST_F(BaselineDistributed, NeuralCleanse) {
  NeuralCleanseOptions o;
  o.epochs = 3;
  o.anomaly_threshold = 0.1;  // flag something on this uninfected model, so unlearning runs
  o.unlearn_epochs = 2;
  o.sgd.batch_size = 32;
  expect_rank_count_independent(NeuralCleanse(o));
}

TEST_F(BaselineDistributed, Mcr) {
  McrOptions o;
  o.endpoint_epochs = 2;
  o.curve_epochs = 2;
  o.sgd.batch_size = 32;
  expect_rank_count_independent(Mcr(o));
}

}  // namespace
