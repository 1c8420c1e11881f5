#include "core/training/stop.h"

#include <ATen/ATen.h>

#include <utility>

namespace pbe {
namespace {
std::function<bool()>& check() {
  static std::function<bool()> should_stop;
  return should_stop;
}
}  // namespace

void set_stop_check(std::function<bool()> should_stop) { check() = std::move(should_stop); }

void stop_point(ProcessGroup& group) {
  if (!check()) return;
  auto stop = at::tensor({check()() ? 1 : 0}, at::kInt);
  group.allreduce(stop, ReduceOp::kMax);
  if (stop.item<int>() > 0) throw StopRequested();
}

}  // namespace pbe
