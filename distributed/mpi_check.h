#pragma once
#include <mpi.h>

#include <string>

#include "distributed/distributed_error.h"

namespace pbe {

std::string mpi_error_string(int code);

}  // namespace pbe

// Wraps every MPI call: a failure throws DistributedError naming the call, file:line and MPI's message.
#define PBE_MPI_CHECK(call)                                                                    \
  do {                                                                                         \
    int pbe_mpi_rc_ = (call);                                                                  \
    if (pbe_mpi_rc_ != MPI_SUCCESS) {                                                          \
      throw ::pbe::DistributedError(std::string(#call) + " failed at " + __FILE__ + ":" +     \
                                    std::to_string(__LINE__) + ": " +                          \
                                    ::pbe::mpi_error_string(pbe_mpi_rc_));                     \
    }                                                                                          \
  } while (0)
