#pragma once
#include <stdexcept>
#include <string>

namespace pbe {

// A failed collective or MPI/NCCL call; the message names the call, the rank and the library's error.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pbe
