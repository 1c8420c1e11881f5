#pragma once
// The root of every error pbe-dist raises, and its exit codes. An Error carries the exit code the
// process ends with when nothing handles it, and whether every rank raises it alike;
// launcher/main.cc has the one catch that turns it into one line and that code. The kinds:
// core/errors.h (ConfigError, DataError, RunError), storage/storage_error.h,
// distributed/distributed_error.h.
#include <exception>
#include <stdexcept>
#include <string>

namespace pbe {

// pbe_dist's exit codes (launcher/main.cc's header lists them for users).
enum ExitCode : int {
  kExitOk = 0,
  kExitRunFailure = 1,   // a run that could not go on (a failed write, a failed MPI call, a crash)
  kExitBadInput = 2,     // bad usage or input: spec, data, model or results file
  kExitSomeFailed = 3,   // the run ended, but some results are marked failed
  kExitStopped = 75,     // stopped by a signal at a safe point: finish with --resume (EX_TEMPFAIL)
};

class Error : public std::runtime_error {
 public:
  // Who raises it: every rank alike (checks of the shared spec and data, all-reduced values), or
  // maybe this rank alone (a file write, an MPI call), whose job must then end rather than leave
  // the other ranks waiting in a collective.
  enum class Ranks { kEvery, kThisOne };
  Error(const std::string& message, ExitCode code, Ranks ranks)
      : std::runtime_error(message), code_(code), ranks_(ranks) {}
  ExitCode exit_code() const { return code_; }
  bool raised_on_every_rank() const { return ranks_ == Ranks::kEvery; }

 private:
  ExitCode code_;
  Ranks ranks_;
};

// The exit code `e` means: an Error's own, kExitRunFailure for anything else.
inline ExitCode exit_code_of(const std::exception& e) {
  const auto* error = dynamic_cast<const Error*>(&e);
  return error ? error->exit_code() : kExitRunFailure;
}

}  // namespace pbe
