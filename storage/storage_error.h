#pragma once
#include <stdexcept>

namespace pbe {

// A results or checkpoint file that cannot be created, written or read; the message names the file.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pbe
