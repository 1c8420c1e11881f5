#include "core/attacks/badnets.h"

#include <cmath>

#include "core/errors.h"

namespace pbe {

BadNets::BadNets(const BadNetsOptions& o, int num_classes) : options_(o) {
  if (!(o.poison_rate > 0 && o.poison_rate <= 1))
    throw ConfigError("badnets: poison_rate must be in (0, 1], got " + std::to_string(o.poison_rate));
  if (o.target < 0 || o.target >= num_classes)
    throw ConfigError("badnets: target " + std::to_string(o.target) + " outside [0, " +
                      std::to_string(num_classes) + ")");
  if (o.size < 1) throw ConfigError("badnets: size must be >= 1");
  if (o.pattern != "checkerboard" && o.pattern != "square")
    throw ConfigError("badnets: pattern must be checkerboard or square, got '" + o.pattern + "'");
  if (o.position != "bottom-right" && o.position != "bottom-left" && o.position != "top-right" &&
      o.position != "top-left")
    throw ConfigError("badnets: unknown position '" + o.position + "'");
}

std::pair<int64_t, int64_t> BadNets::origin(int64_t h, int64_t w) const {
  const int64_t s = options_.size, m = options_.margin;
  if (s + m > h || s + m > w) throw ConfigError("badnets: patch does not fit the image");
  const bool bottom = options_.position.rfind("bottom", 0) == 0;
  const bool right = options_.position.find("right") != std::string::npos;
  return {bottom ? h - m - s : m, right ? w - m - s : m};
}

at::Tensor BadNets::trigger_mask(int64_t h, int64_t w) const {
  auto mask = torch::zeros({h, w});
  auto [y, x] = origin(h, w);
  mask.narrow(0, y, options_.size).narrow(1, x, options_.size).fill_(1.0);
  return mask;
}

at::Tensor BadNets::trigger_pattern(int64_t c, int64_t h, int64_t w) const {
  auto pattern = torch::zeros({c, h, w});
  auto [y0, x0] = origin(h, w);
  for (int64_t i = 0; i < options_.size; ++i)
    for (int64_t j = 0; j < options_.size; ++j) {
      // Checkerboard: white where (i + j) is even, so the corners are white.
      const bool white = options_.pattern == "square" || (i + j) % 2 == 0;
      pattern.select(1, y0 + i).select(1, x0 + j).fill_(white ? 1.0 : 0.0);
    }
  return pattern;
}

at::Tensor BadNets::apply_trigger(const at::Tensor& images) const {
  const int64_t c = images.size(1), h = images.size(2), w = images.size(3);
  auto mask = trigger_mask(h, w);
  auto pattern = trigger_pattern(c, h, w);
  return images * (1 - mask) + pattern * mask;
}

at::Tensor BadNets::target_labels(const at::Tensor& y, int num_classes) const {
  if (options_.mode == TargetMode::kAllToAll) return (y + 1).remainder(num_classes);
  return torch::full_like(y, options_.target);
}

at::Tensor BadNets::asr_mask(const at::Tensor& y) const {
  if (options_.mode == TargetMode::kAllToAll) return torch::ones_like(y, torch::kBool);
  return y.ne(options_.target);
}

PoisonedDataset BadNets::poison(const Dataset& clean, uint64_t seed) const {
  // Candidates: samples whose label would change (all-to-one: not already the target).
  auto candidates = asr_mask(clean.labels).nonzero().squeeze(1);
  const auto count = std::min<int64_t>(
      candidates.numel(), static_cast<int64_t>(std::llround(options_.poison_rate * clean.size())));
  auto chosen = candidates.index_select(0, seeded_permutation(candidates.numel(), seed).narrow(0, 0, count));
  PoisonedDataset out{clean, torch::zeros({clean.size()}, torch::kBool)};
  out.data.images = clean.images.clone();
  out.data.labels = clean.labels.clone();
  out.poison_mask.index_fill_(0, chosen, true);
  auto triggered = to_uint8(apply_trigger(to_float(clean.images.index_select(0, chosen))));
  out.data.images.index_copy_(0, chosen, triggered);
  out.data.labels.index_copy_(0, chosen, target_labels(clean.labels.index_select(0, chosen), clean.num_classes));
  return out;
}

}  // namespace pbe
