#pragma once
// Stopping a run early at a safe point: SIGTERM, SIGINT or SIGUSR1 (SLURM's warning before the
// time limit) ask pbe_dist to stop. The launcher says how to ask whether the job should stop;
// loops call stop_point() where everything before is saved (an epoch's checkpoint, a committed
// unit). core/ knows no signals and no MPI.
#include <functional>

#include "distributed/process_group.h"
#include "util/error.h"

namespace pbe {

class StopRequested : public Error {
 public:
  StopRequested() : Error("stop requested (signal)", kExitStopped, Ranks::kEvery) {}
};

// Process-wide: `should_stop` is asked at every stop point (empty: never stop).
void set_stop_check(std::function<bool()> should_stop);

// Collective over `group`: throws StopRequested on every rank when any rank's check says stop,
// so the ranks of a group stop at the same point.
void stop_point(ProcessGroup& group);

}  // namespace pbe
