#pragma once
// Patch triggers: a pattern pasted where a mask is 1 (BadNets, TrojanNN, Label-Consistent).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>

#include "core/options.h"

namespace pbe {

// images * (1 - mask) + pattern * mask; images [N, C, H, W], pattern [C, H, W], mask [H, W].
at::Tensor stamp(const at::Tensor& images, const at::Tensor& pattern, const at::Tensor& mask);

// A size x size black/white checkerboard (float, 1 = white), white where (i + j) is even, so its
// corners are white.
at::Tensor checkerboard(int64_t size);

// Where a square patch sits: a corner and the gap to the border.
struct PatchPlacement {
  std::string position = "bottom-right";
  int margin = 0;
  void visit(OptionVisitor& v) {
    v("position", position, "the patch's corner: bottom-right, bottom-left, top-right or top-left");
    v("margin", margin, "pixels between the patch and the image border");
  }
  // Throws ConfigError naming `attack` for an unknown position or a negative margin.
  void validate(const std::string& attack) const;
  // Top-left (row, column) of a size x size patch; ConfigError if it does not fit the image.
  std::pair<int64_t, int64_t> origin(int64_t size, int64_t height, int64_t width,
                                     const std::string& attack) const;
};

}  // namespace pbe
