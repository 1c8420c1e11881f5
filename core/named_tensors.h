#pragma once
// Named tensors: a model's state, a checkpoint's contents, what defines an attack's trigger.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace pbe {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

}  // namespace pbe
