#include "core/defenses/defense.h"

#include <cmath>

namespace pbe {

int64_t clean_extra_size(double fraction, int64_t train) {
  return static_cast<int64_t>(std::llround(fraction * static_cast<double>(train)));
}

}  // namespace pbe
