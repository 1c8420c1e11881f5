#include "core/metrics/formulas.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pbe {
namespace {
// (max(0, gain) - max(0, acc_drop) + 1) / 2, NaN if anything is undefined (std::max would hide it).
double rating(double gain, double acc_drop) {
  if (std::isnan(gain) || std::isnan(acc_drop)) return std::numeric_limits<double>::quiet_NaN();
  return (std::max(0.0, gain) - std::max(0.0, acc_drop) + 1.0) / 2.0;
}
}  // namespace

double defense_effectiveness_rating(double acc_before, double asr_before, double acc_after,
                                    double asr_after) {
  return rating(asr_before - asr_after, acc_before - acc_after);
}

double robust_improvement_rating(double acc_before, double ra_before, double acc_after,
                                 double ra_after) {
  return rating(ra_after - ra_before, acc_before - acc_after);
}

}  // namespace pbe
