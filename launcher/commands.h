#pragma once
#include <string>

#include "distributed/world.h"

namespace pbe {

// Options of `pbe_dist run` / `pbe_dist plan` beyond the spec itself.
struct RunOptions {
  std::string spec_path;
  std::string output;          // Overrides the spec's output when non-empty.
  int threads = -1;            // Overrides the spec's threads when >= 0.
  bool overwrite = false;      // Replace an existing results file.
  std::string command_line;    // For the provenance record.
};

// `pbe_dist run`: the whole matrix; returns the process exit code. Collective over the world.
int run_command(const World& world, const RunOptions& options);
// `pbe_dist plan`: prints the cells and the work estimate, trains nothing (rank 0 prints).
int plan_command(const World& world, const RunOptions& options);

}  // namespace pbe
