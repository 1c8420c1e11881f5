#include "launcher/stop_signals.h"

#include <csignal>

namespace pbe {
namespace {

volatile std::sig_atomic_t received = 0;

extern "C" void on_stop_signal(int signal) {
  received = 1;
  if (signal == SIGINT) std::signal(SIGINT, SIG_DFL);  // the next Ctrl-C ends the process
}

}  // namespace

void install_stop_signals() {
  for (int s : {SIGTERM, SIGINT, SIGUSR1}) std::signal(s, on_stop_signal);
}

bool stop_signal_received() { return received != 0; }

}  // namespace pbe
