#include "core/attacks/patch.h"

#include <torch/torch.h>

#include "core/errors.h"

namespace pbe {

at::Tensor stamp(const at::Tensor& images, const at::Tensor& pattern, const at::Tensor& mask) {
  return images * (1 - mask) + pattern * mask;
}

at::Tensor checkerboard(int64_t size) {
  auto i = torch::arange(size, torch::kLong);
  return (i.unsqueeze(1) + i.unsqueeze(0)).remainder(2).eq(0).to(torch::kFloat);
}

void PatchPlacement::validate(const std::string& attack) const {
  if (position != "bottom-right" && position != "bottom-left" && position != "top-right" &&
      position != "top-left")
    throw ConfigError(attack + ": unknown position '" + position +
                      "' (bottom-right, bottom-left, top-right or top-left)");
  if (margin < 0) throw ConfigError(attack + ": margin must be >= 0");
}

std::pair<int64_t, int64_t> PatchPlacement::origin(int64_t size, int64_t h, int64_t w,
                                                   const std::string& attack) const {
  if (size + margin > h || size + margin > w)
    throw ConfigError(attack + ": a " + std::to_string(size) + "-pixel patch with margin " +
                      std::to_string(margin) + " does not fit a " + std::to_string(h) + "x" +
                      std::to_string(w) + " image");
  const bool bottom = position.rfind("bottom", 0) == 0;
  const bool right = position.find("right") != std::string::npos;
  return {bottom ? h - margin - size : margin, right ? w - margin - size : margin};
}

}  // namespace pbe
