#include "core/attacks/blend.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/attacks/registry.h"
#include "core/data/netpbm_reader.h"
#include "core/errors.h"

namespace pbe {

Blend::Blend(const BlendOptions& o, const ImageShape& shape)
    : PoisonLabelAttack("blend", o, shape, /*clean_label=*/false), options_(o) {
  if (!(o.alpha >= 0 && o.alpha <= 1))
    throw ConfigError("blend: alpha must be in [0, 1], got " + std::to_string(o.alpha));
  if (o.image.empty()) {
    auto gen = at::detail::createCPUGenerator(o.trigger_seed);
    // Whole-byte noise, so the trigger survives the uint8 round trip exactly.
    trigger_ = at::randint(0, 256, {shape.channels, shape.height, shape.width}, gen, torch::kFloat) / 255.0;
  } else {
    trigger_ = fit_image(read_netpbm(o.image), shape.channels, shape.height, shape.width);
  }
}

at::Tensor Blend::apply_trigger(const at::Tensor& images) const {
  return (1 - options_.alpha) * images + options_.alpha * trigger_;
}

NamedTensors Blend::artifacts(int64_t, int64_t, int64_t) const {
  return {{"trigger_image", trigger_}};
}

PBE_REGISTER_ATTACK(Blend, BlendOptions, "blend",
                    "Blend (Chen et al. 2017): a trigger image blended into the whole image, label flipped")

}  // namespace pbe
