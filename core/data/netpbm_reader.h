#pragma once
#include <ATen/core/Tensor.h>

#include <string>

namespace pbe {

// A binary Netpbm image (PGM "P5" or PPM "P6", maxval <= 255), the format any image tool writes
// (`convert trigger.png trigger.ppm`). Returns float [C, H, W] in [0, 1], C = 1 or 3. Problems
// (missing file, bad header, truncated pixels) throw DataError naming the file.
at::Tensor read_netpbm(const std::string& path);

// `image` [C, H, W] resized (bilinear) and converted (grey <-> RGB) to [channels, height, width].
at::Tensor fit_image(const at::Tensor& image, int64_t channels, int64_t height, int64_t width);

}  // namespace pbe
