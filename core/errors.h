#pragma once
// The error kinds core/ raises (util/error.h: the root, exit codes, and how main handles them).
#include <string>

#include "util/error.h"

namespace pbe {

// A spec or option that cannot be used; the message names the file, line and key where known.
class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& message) : Error(message, kExitBadInput, Ranks::kEvery) {}
};

// A dataset file that is missing, truncated or corrupt; the message names the file.
class DataError : public Error {
 public:
  explicit DataError(const std::string& message) : Error(message, kExitBadInput, Ranks::kEvery) {}
};

// A run that went wrong for scientific reasons (NaN loss, diverged training). Raised identically
// on every rank of a group (the values it checks are all-reduced), so the group can go on: the
// cell runner marks the unit failed.
class RunError : public Error {
 public:
  explicit RunError(const std::string& message) : Error(message, kExitRunFailure, Ranks::kEvery) {}
};

}  // namespace pbe
