#pragma once
// SIGTERM, SIGINT and SIGUSR1 (SLURM's `--signal` warning; mpirun forwards it to every rank)
// ask a run to stop at its next safe point instead of ending the process. A second SIGINT ends
// it at once (Ctrl-C twice).
namespace pbe {

void install_stop_signals();
// Whether one of those signals has reached this process.
bool stop_signal_received();

}  // namespace pbe
