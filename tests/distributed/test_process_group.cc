#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "distributed/distributed_error.h"
#include "distributed/nccl_process_group.h"
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

// Every collective over every dtype the MPI backend takes and sizes from empty to 4 MiB (odd
// counts included): values that depend on the rank and the position, checked exactly.
TEST(ProcessGroup, CollectivesOverSizesAndDtypes) {
  auto pg = g_world->make_process_group();
  const int r = pg->rank(), n = pg->size();
  for (auto dtype : {torch::kFloat, torch::kDouble, torch::kInt, torch::kLong, torch::kByte, torch::kChar}) {
    for (int64_t count : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{12345}, int64_t{1} << 20}) {
      SCOPED_TRACE(std::string(c10::toString(dtype)) + " x " + std::to_string(count));
      // Small values, so int8/uint8 sums over 4 ranks stay exact.
      auto pattern = torch::arange(count, torch::kLong).remainder(5);
      auto sum = (pattern + r).to(dtype);
      pg->allreduce(sum, pbe::ReduceOp::kSum);
      EXPECT_TRUE(torch::equal(sum, (n * pattern + n * (n - 1) / 2).to(dtype)));
      auto max = (pattern + r).to(dtype);
      pg->allreduce(max, pbe::ReduceOp::kMax);
      EXPECT_TRUE(torch::equal(max, (pattern + n - 1).to(dtype)));
      for (int root = 0; root < n; ++root) {
        auto b = (pattern + r).to(dtype);
        pg->broadcast(b, root);
        EXPECT_TRUE(torch::equal(b, (pattern + root).to(dtype))) << "root " << root;
      }
      auto all = pg->allgather((pattern + r).to(dtype));
      ASSERT_EQ(all.sizes(), (std::vector<int64_t>{n, count}));
      for (int k = 0; k < n; ++k) EXPECT_TRUE(torch::equal(all[k], (pattern + k).to(dtype))) << "rank " << k;
    }
  }
}

// Groups of 1, 2 (and 4) consecutive ranks: each group's collectives reach its own ranks only.
TEST(ProcessGroup, WorldSplitsIntoGroupsOfConsecutiveRanks) {
  const int n = g_world->size(), r = g_world->rank();
  for (int size : {1, 2, 4}) {
    if (n % size != 0) {
      EXPECT_THROW(g_world->make_group(size), pbe::DistributedError);
      continue;
    }
    auto group = g_world->make_group(size);
    EXPECT_EQ(group->size(), size);
    EXPECT_EQ(group->rank(), r % size);
    auto t = torch::tensor({int64_t(r)});
    group->allreduce(t, pbe::ReduceOp::kSum);
    const int64_t first = r / size * size;  // the group's ranks: first .. first + size - 1
    EXPECT_EQ(t.item<int64_t>(), size * first + size * (size - 1) / 2) << "group size " << size;
  }
}

// The job-wide counter hands out 0, 1, 2, ... exactly once over all ranks' calls.
TEST(SharedCounter, HandsOutEveryValueOnce) {
  auto pg = g_world->make_process_group();
  const int calls = 25;
  std::vector<int64_t> mine;
  {
    pbe::SharedCounter counter(*g_world);
    for (int i = 0; i < calls; ++i) mine.push_back(counter.next());
  }
  auto all = pg->allgather(torch::tensor(mine)).flatten();
  auto sorted = std::get<0>(all.sort());
  EXPECT_TRUE(torch::equal(sorted, torch::arange(int64_t{calls} * pg->size(), torch::kLong)));
  // Each rank's own values increase (a fetch-and-add returns the value before it).
  for (size_t i = 1; i < mine.size(); ++i) EXPECT_GT(mine[i], mine[i - 1]);
}

// The job-wide lock excludes: every rank increments a number in a file by read, pause, write,
// holding the lock; no increment is lost.
TEST(JobLock, NoTwoRanksHoldItAtOnce) {
  auto pg = g_world->make_process_group();
  auto path = std::filesystem::temp_directory_path() / "pbe_job_lock_test";
  auto token = torch::tensor({static_cast<int64_t>(::getpid())});  // rank 0's pid names the file
  pg->broadcast(token, 0);
  path += std::to_string(token.item<int64_t>());
  if (pg->rank() == 0) std::ofstream(path) << 0;
  pg->barrier();
  const int rounds = 20;
  {
    pbe::JobLock lock(*g_world);
    for (int i = 0; i < rounds; ++i) {
      lock.lock();
      int64_t value = 0;
      std::ifstream(path) >> value;
      std::this_thread::sleep_for(std::chrono::microseconds(300));
      std::ofstream(path) << value + 1;
      lock.unlock();
    }
  }
  pg->barrier();
  int64_t total = 0;
  std::ifstream(path) >> total;
  EXPECT_EQ(total, int64_t{rounds} * pg->size());
  pg->barrier();
  if (pg->rank() == 0) std::filesystem::remove(path);
}

// NCCL: the same collectives on this rank's GPU (its local rank). Without a GPU (or
// in a build without NCCL) asking for the backend is a clear DistributedError.
TEST(NcclProcessGroup, CollectivesOnTheLocalGpu) {
  int device = -1;
  try {
    device = g_world->local_gpu();
  } catch (const pbe::DistributedError& e) {
    GTEST_SKIP() << e.what();
  }
  if (device < 0 || !torch::cuda::is_available()) {
    EXPECT_THROW(pbe::make_nccl_process_group(g_world->comm(), 0), pbe::DistributedError);
    if (g_world->size() > 1) {
      EXPECT_THROW(g_world->make_process_group(pbe::Backend::kNccl), pbe::DistributedError);
      EXPECT_THROW(g_world->make_group(g_world->size(), pbe::Backend::kNccl), pbe::DistributedError);
    }
    GTEST_SKIP() << "no GPU here";
  }
  {  // The MPI backend takes GPU tensors through host memory.
    auto mpi = g_world->make_process_group(pbe::Backend::kMpi);
    auto t = torch::full({5}, static_cast<float>(g_world->rank()), torch::Device(torch::kCUDA, device));
    mpi->allreduce(t, pbe::ReduceOp::kSum);
    EXPECT_TRUE(t.is_cuda());
    const int n = g_world->size();
    EXPECT_TRUE(torch::equal(t.cpu(), torch::full({5}, n * (n - 1) / 2.0f)));
  }
  auto pg = pbe::make_nccl_process_group(g_world->comm(), device);
  EXPECT_EQ(pg->backend_name(), "nccl");
  const int r = pg->rank(), n = pg->size();
  const auto gpu = torch::Device(torch::kCUDA, device);
  for (auto dtype : {torch::kFloat, torch::kDouble, torch::kHalf, torch::kBFloat16, torch::kInt, torch::kLong}) {
    for (int64_t count : {int64_t{1}, int64_t{12345}, int64_t{1} << 22}) {
      SCOPED_TRACE(std::string(c10::toString(dtype)) + " x " + std::to_string(count));
      auto pattern = torch::arange(count, torch::kLong).remainder(5);
      auto sum = (pattern + r).to(dtype).to(gpu);
      pg->allreduce(sum, pbe::ReduceOp::kSum);
      EXPECT_TRUE(torch::equal(sum.cpu(), (n * pattern + n * (n - 1) / 2).to(dtype)));
      auto b = (pattern + r).to(dtype).to(gpu);
      pg->broadcast(b, n - 1);
      EXPECT_TRUE(torch::equal(b.cpu(), (pattern + n - 1).to(dtype)));
      auto all = pg->allgather((pattern + r).to(dtype).to(gpu)).cpu();
      for (int k = 0; k < n; ++k) EXPECT_TRUE(torch::equal(all[k], (pattern + k).to(dtype)));
    }
  }
  auto cpu = torch::full({4}, static_cast<double>(r + 1), torch::kDouble);  // staged through the GPU
  pg->allreduce(cpu, pbe::ReduceOp::kSum);
  EXPECT_TRUE(cpu.is_cpu());
  EXPECT_TRUE(torch::equal(cpu, torch::full({4}, n * (n + 1) / 2.0, torch::kDouble)));
  pg->barrier();
}

}  // namespace
