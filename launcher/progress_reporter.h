#pragma once
#include <chrono>
#include <string>

#include "core/training/progress.h"
#include "launcher/plan.h"

namespace pbe {

// Rank 0's progress lines: which cell, which phase and epoch, throughput, and an ETA for the whole
// run from the plan's work estimate. At most one line per `interval_seconds`, plus one at the end of each phase.
// `total_image_epochs` is this run's work: a --resume run's total leaves out the units the file
// holds (Plan::image_epochs_to_run), and epochs a checkpoint held (ProgressEvent::resumed_images)
// count as done without counting towards the throughput the ETA divides by.
class ProgressReporter {
 public:
  ProgressReporter(bool enabled, double total_image_epochs, double interval_seconds = 5.0);
  void start_cell(const Cell& cell, int cells);
  // A unit of work that is not a cell (pbe_dist purify): `label` leads its lines.
  void start(const std::string& label);
  void on_event(const ProgressEvent& event);
  ProgressFn callback();
  // Fraction of the total done (run or resumed from a checkpoint), in [0, 1].
  double fraction_done() const;
  // Seconds left at the throughput so far, `elapsed_seconds` after the start; -1 before any work.
  double eta_seconds(double elapsed_seconds) const;

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  double total_, interval_, done_ = 0, resumed_ = 0;
  std::string cell_label_, phase_;
  int64_t phase_images_ = 0;
  Clock::time_point start_ = Clock::now(), last_print_ = Clock::now();
};

std::string format_duration(double seconds);

}  // namespace pbe
