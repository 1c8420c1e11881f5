#pragma once
#include "util/error.h"

namespace pbe {

// A results or checkpoint file that cannot be created, written or read; the message names the
// file. Reading someone's file is bad input (exit 2); a failed commit is a run failure (exit 1).
class StorageError : public Error {
 public:
  explicit StorageError(const std::string& message, ExitCode code = kExitBadInput)
      : Error(message, code, Ranks::kThisOne) {}
};

}  // namespace pbe
