#include "core/data/netpbm_reader.h"

#include <torch/torch.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <vector>

#include "core/errors.h"

namespace pbe {
namespace {

// Skips whitespace and '#' comments, then reads a decimal header field.
int64_t header_field(std::istream& in, const std::string& path, const char* what) {
  for (int c = in.peek(); c != EOF; c = in.peek()) {
    if (std::isspace(c)) {
      in.get();
    } else if (c == '#') {
      std::string comment;
      std::getline(in, comment);
    } else {
      break;
    }
  }
  int64_t v = -1;
  if (!(in >> v) || v <= 0) throw DataError(path + ": bad Netpbm header (" + what + ")");
  return v;
}

}  // namespace

at::Tensor read_netpbm(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open image file");
  char magic[2] = {0, 0};
  in.read(magic, 2);
  if (!in || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '6'))
    throw DataError(path + ": not a binary PGM (P5) or PPM (P6) image");
  const int64_t channels = magic[1] == '5' ? 1 : 3;
  const int64_t width = header_field(in, path, "width");
  const int64_t height = header_field(in, path, "height");
  const int64_t maxval = header_field(in, path, "maxval");
  if (maxval > 255) throw DataError(path + ": 16-bit Netpbm images are not supported");
  if (width > 16384 || height > 16384) throw DataError(path + ": image larger than 16384 pixels");
  in.get();  // The single whitespace byte after maxval.
  std::vector<uint8_t> pixels(static_cast<size_t>(channels * width * height));
  in.read(reinterpret_cast<char*>(pixels.data()), static_cast<std::streamsize>(pixels.size()));
  if (in.gcount() != static_cast<std::streamsize>(pixels.size()))
    throw DataError(path + ": truncated image: expected " + std::to_string(pixels.size()) +
                    " pixel bytes, got " + std::to_string(in.gcount()));
  auto hwc = torch::from_blob(pixels.data(), {height, width, channels}, torch::kByte).clone();
  return hwc.permute({2, 0, 1}).to(torch::kFloat).div(static_cast<double>(maxval)).contiguous();
}

at::Tensor fit_image(const at::Tensor& image, int64_t channels, int64_t height, int64_t width) {
  auto x = image;
  if (x.size(0) == 3 && channels == 1) {
    x = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).unsqueeze(0);  // ITU-R BT.601 luma
  } else if (x.size(0) == 1 && channels > 1) {
    x = x.expand({channels, -1, -1});
  } else if (x.size(0) != channels) {
    throw DataError("cannot convert a " + std::to_string(x.size(0)) + "-channel image to " +
                    std::to_string(channels) + " channels");
  }
  if (x.size(1) != height || x.size(2) != width) {
    x = torch::nn::functional::interpolate(
            x.unsqueeze(0), torch::nn::functional::InterpolateFuncOptions()
                                .size(std::vector<int64_t>{height, width})
                                .mode(torch::kBilinear)
                                .align_corners(false))
            .squeeze(0);
  }
  return x.clamp(0, 1).contiguous();
}

}  // namespace pbe
