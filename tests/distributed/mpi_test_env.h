#pragma once
#include "distributed/world.h"

namespace pbe::testing {
// The process's World, set by mpi_test_main.cc before the tests run.
extern const World* g_world;
}  // namespace pbe::testing
