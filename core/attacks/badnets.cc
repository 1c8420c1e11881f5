#include "core/attacks/badnets.h"

#include <torch/torch.h>

#include "core/attacks/registry.h"
#include "core/errors.h"

namespace pbe {

BadNets::BadNets(const BadNetsOptions& o, const ImageShape& shape)
    : PoisonLabelAttack("badnets", o, shape, /*clean_label=*/false), options_(o) {
  if (o.size < 1) throw ConfigError("badnets: size must be >= 1");
  if (o.pattern != "checkerboard" && o.pattern != "square")
    throw ConfigError("badnets: pattern must be checkerboard or square, got '" + o.pattern + "'");
  if (!(o.amplitude > 0 && o.amplitude <= 1)) throw ConfigError("badnets: amplitude must be in (0, 1]");
  o.placement.validate("badnets");
  o.placement.origin(o.size, shape.height, shape.width, "badnets");  // Throws if it does not fit.
}

at::Tensor BadNets::mask(int64_t h, int64_t w) const {
  auto mask = torch::zeros({h, w});
  auto [y, x] = options_.placement.origin(options_.size, h, w, "badnets");
  mask.narrow(0, y, options_.size).narrow(1, x, options_.size).fill_(1.0);
  return mask;
}

at::Tensor BadNets::pattern(int64_t c, int64_t h, int64_t w) const {
  auto pattern = torch::zeros({c, h, w});
  auto [y, x] = options_.placement.origin(options_.size, h, w, "badnets");
  auto patch = options_.pattern == "square" ? torch::ones({options_.size, options_.size})
                                            : checkerboard(options_.size);
  pattern.narrow(1, y, options_.size).narrow(2, x, options_.size).copy_(patch.expand({c, -1, -1}));
  return pattern;
}

at::Tensor BadNets::apply_trigger(const at::Tensor& images) const {
  const int64_t c = images.size(1), h = images.size(2), w = images.size(3);
  return stamp(images, pattern(c, h, w), options_.amplitude * mask(h, w));
}

NamedTensors BadNets::artifacts(int64_t c, int64_t h, int64_t w) const {
  return {{"trigger_pattern", pattern(c, h, w)}, {"trigger_mask", options_.amplitude * mask(h, w)}};
}

PBE_REGISTER_ATTACK(BadNets, BadNetsOptions, "badnets",
                    "BadNets (Gu et al. 2017): a small patch stamped on the image, label flipped")

}  // namespace pbe
