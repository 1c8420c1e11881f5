#pragma once
// Named columns of doubles, all of one length: per-epoch curves, a defense's per-step, per-neuron
// and per-row records, as core/ produces them and the results file stores them.
#include <string>
#include <utility>
#include <vector>

namespace pbe {

using Columns = std::vector<std::pair<std::string, std::vector<double>>>;

}  // namespace pbe
