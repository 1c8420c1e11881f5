#include "core/attacks/attack.h"

#include <torch/torch.h>

namespace pbe {

PoisonedDataset NoAttack::poison(const Dataset& clean_train, uint64_t) const {
  return {clean_train, torch::zeros({clean_train.size()}, torch::kBool)};
}
at::Tensor NoAttack::asr_mask(const at::Tensor& true_labels) const {
  return torch::zeros_like(true_labels, torch::kBool);
}
at::Tensor NoAttack::trigger_pattern(int64_t c, int64_t h, int64_t w) const {
  return torch::zeros({c, h, w});
}
at::Tensor NoAttack::trigger_mask(int64_t h, int64_t w) const { return torch::zeros({h, w}); }

}  // namespace pbe
