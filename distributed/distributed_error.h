#pragma once
#include "util/error.h"

namespace pbe {

// A failed collective or MPI/NCCL call; the message names the call, the rank and the library's error.
class DistributedError : public Error {
 public:
  explicit DistributedError(const std::string& message) : Error(message, kExitRunFailure, Ranks::kThisOne) {}
};

}  // namespace pbe
