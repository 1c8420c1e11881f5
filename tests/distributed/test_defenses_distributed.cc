// Defense work spread over ranks gives every rank the result one rank would compute.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/attacks/badnets.h"
#include "core/data/synthetic.h"
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

}  // namespace
