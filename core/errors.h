#pragma once
// The error kinds core/ raises. The CLI turns each into one line and an exit code:
// ConfigError / DataError -> 2 (bad input), RunError -> the cell is marked failed, others -> 1.
#include <stdexcept>
#include <string>

namespace pbe {

// A spec or option that cannot be used; the message names the file, line and key where known.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A dataset file that is missing, truncated or corrupt; the message names the file.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A run that went wrong for scientific reasons (NaN loss, diverged training). Raised identically
// on every rank of a group (the values it checks are all-reduced), so the group can go on.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pbe
