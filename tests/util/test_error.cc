// util/error.h: every error kind pbe-dist raises carries the exit code main ends with, and says
// whether every rank raises it alike (main prints it once) or maybe one rank alone (main ends the job).
#include "util/error.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "core/errors.h"
#include "core/training/stop.h"
#include "distributed/distributed_error.h"
#include "storage/storage_error.h"

namespace pbe {
namespace {

void expect(const std::exception& e, ExitCode code, bool every_rank) {
  EXPECT_EQ(exit_code_of(e), code) << e.what();
  const auto* error = dynamic_cast<const Error*>(&e);
  ASSERT_NE(error, nullptr) << e.what();
  EXPECT_EQ(error->raised_on_every_rank(), every_rank) << e.what();
}

TEST(Error, EachKindCarriesItsExitCodeAndItsRanks) {
  expect(ConfigError("spec.yaml:3: epochs: expected an integer"), kExitBadInput, true);
  expect(DataError("data/train-images-idx3-ubyte: truncated"), kExitBadInput, true);
  expect(RunError("loss is nan"), kExitRunFailure, true);
  expect(StopRequested(), kExitStopped, true);
  expect(StorageError("r.h5: not an HDF5 file"), kExitBadInput, false);
  expect(StorageError("r.h5: commit failed: No space left on device", kExitRunFailure), kExitRunFailure, false);
  expect(DistributedError("MPI_Allreduce failed on rank 1"), kExitRunFailure, false);
}

TEST(Error, AnythingElseIsARunFailure) {
  EXPECT_EQ(exit_code_of(std::runtime_error("c10::Error")), kExitRunFailure);
  EXPECT_EQ(exit_code_of(std::bad_alloc()), kExitRunFailure);
}

}  // namespace
}  // namespace pbe
