#pragma once
#include <string>

namespace pbe {

// Every log line names its rank: "[12:00:01] [rank 1/4] [warning] ...". Rank 0 logs at `level`;
// the other ranks at warning or above unless `level` is debug or trace. Throws ConfigError for
// an unknown level.
void setup_logging(int rank, int size, const std::string& level);
// This rank logs at the requested level too: the first rank of each group of ranks, which
// reports its group's cells.
void log_at_requested_level();

}  // namespace pbe
