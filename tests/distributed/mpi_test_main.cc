// GoogleTest main for tests that run under mpiexec: MPI lives for the whole test binary.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "distributed/world.h"
#include "tests/distributed/mpi_test_env.h"

namespace pbe::testing {
const World* g_world = nullptr;
}

int main(int argc, char** argv) {
  pbe::World world(&argc, &argv);
  pbe::testing::g_world = &world;
  torch::set_num_threads(1);
  ::testing::InitGoogleTest(&argc, argv);
  if (world.rank() != 0) {  // one rank reports successes; every rank still reports its failures
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS();
  if (failed) std::fprintf(stderr, "rank %d: tests FAILED\n", world.rank());
  return failed;
}
