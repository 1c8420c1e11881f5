#include "core/attacks/sig.h"

#include <torch/torch.h>

#include <cmath>

#include "core/attacks/registry.h"
#include "core/errors.h"

namespace pbe {

Sig::Sig(const SigOptions& o, const ImageShape& shape)
    : PoisonLabelAttack("sig", o, shape, /*clean_label=*/true), options_(o) {
  if (!(o.delta > 0 && o.delta <= 1)) throw ConfigError("sig: delta must be in (0, 1]");
  if (!(o.test_delta > 0 && o.test_delta <= 1)) throw ConfigError("sig: test_delta must be in (0, 1]");
  if (!(o.frequency > 0)) throw ConfigError("sig: frequency must be > 0");
}

at::Tensor Sig::signal(double delta, int64_t c, int64_t h, int64_t w) const {
  auto j = torch::arange(w, torch::kFloat);
  auto row = delta * torch::sin(2 * M_PI * j * options_.frequency / static_cast<double>(w));
  return row.view({1, 1, w}).expand({c, h, w}).contiguous();
}

at::Tensor Sig::apply_trigger(const at::Tensor& x) const {
  return (x + signal(options_.test_delta, x.size(1), x.size(2), x.size(3))).clamp(0, 1);
}

at::Tensor Sig::poison_images(const at::Tensor& x, const at::Tensor&) const {
  return (x + signal(options_.delta, x.size(1), x.size(2), x.size(3))).clamp(0, 1);
}

NamedTensors Sig::artifacts(int64_t c, int64_t h, int64_t w) const {
  return {{"train_signal", signal(options_.delta, c, h, w)},
          {"test_signal", signal(options_.test_delta, c, h, w)}};
}

PBE_REGISTER_ATTACK(Sig, SigOptions, "sig",
                    "SIG (Barni et al. 2019), clean-label: a horizontal sinusoid on target-class images")

}  // namespace pbe
