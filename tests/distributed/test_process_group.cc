#include <gtest/gtest.h>
#include <torch/torch.h>

#include "distributed/distributed_error.h"
#include "tests/distributed/mpi_test_env.h"

using pbe::testing::g_world;

namespace {

TEST(ProcessGroup, BackendMatchesWorldSize) {
  auto pg = g_world->make_process_group();
  EXPECT_EQ(pg->size(), g_world->size());
  EXPECT_EQ(pg->rank(), g_world->rank());
  EXPECT_EQ(pg->backend_name(), g_world->size() == 1 ? "single" : "mpi");
}

TEST(ProcessGroup, AllreduceSumMaxMin) {
  auto pg = g_world->make_process_group();
  const int r = pg->rank(), n = pg->size();
  auto t = torch::tensor({float(r), float(2 * r + 1)});
  pg->allreduce(t, pbe::ReduceOp::kSum);
  EXPECT_FLOAT_EQ(t[0].item<float>(), n * (n - 1) / 2.0f);
  EXPECT_FLOAT_EQ(t[1].item<float>(), float(n * n));
  auto m = torch::tensor({int64_t(r)});
  pg->allreduce(m, pbe::ReduceOp::kMax);
  EXPECT_EQ(m.item<int64_t>(), n - 1);
  auto d = torch::tensor({double(r) + 0.5}, torch::kDouble);
  pg->allreduce(d, pbe::ReduceOp::kMin);
  EXPECT_DOUBLE_EQ(d.item<double>(), 0.5);
}

TEST(ProcessGroup, BroadcastFromLastRank) {
  auto pg = g_world->make_process_group();
  const int root = pg->size() - 1;
  auto t = torch::full({3, 2}, float(pg->rank()));
  pg->broadcast(t, root);
  EXPECT_TRUE(t.eq(float(root)).all().item<bool>());
}

TEST(ProcessGroup, AllgatherStacksRanksInOrder) {
  auto pg = g_world->make_process_group();
  auto t = torch::full({2, 2}, int64_t(10 * pg->rank()), torch::kLong);
  auto all = pg->allgather(t);
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{pg->size(), 2, 2}));
  for (int r = 0; r < pg->size(); ++r) EXPECT_TRUE(all[r].eq(10 * r).all().item<bool>());
}

TEST(ProcessGroup, MpiRejectsUnsupportedTensors) {
  if (g_world->size() == 1) GTEST_SKIP() << "the single-process backend has no restrictions";
  auto pg = g_world->make_process_group();
  auto half = torch::zeros({2}, torch::kHalf);
  EXPECT_THROW(pg->allreduce(half, pbe::ReduceOp::kSum), pbe::DistributedError);
  auto strided = torch::zeros({4, 4}).t();
  EXPECT_THROW(pg->broadcast(strided, 0), pbe::DistributedError);
}

}  // namespace
