#include "core/attacks/label_consistent.h"

#include <torch/torch.h>

#include "core/attacks/patch.h"
#include "core/attacks/registry.h"
#include "core/errors.h"
#include "core/random.h"

namespace pbe {

LabelConsistent::LabelConsistent(const LabelConsistentOptions& o, const ImageShape& shape)
    : PoisonLabelAttack("lc", o, shape, /*clean_label=*/true), options_(o) {
  if (o.size < 1 || 2 * o.size > std::min(shape.height, shape.width))
    throw ConfigError("lc: size must be >= 1 and fit twice across the image");
  if (!(o.amplitude > 0 && o.amplitude <= 1)) throw ConfigError("lc: amplitude must be in (0, 1]");
  check_pgd_options(o.pgd, "lc");
  if (o.surrogate_epochs < 0) throw ConfigError("lc: surrogate_epochs must be >= 0");
}

double LabelConsistent::extra_image_epochs(int64_t train_size, int victim_epochs) const {
  const int epochs = options_.surrogate_epochs > 0 ? options_.surrogate_epochs : victim_epochs;
  // Surrogate training plus PGD on the target class (1 + steps passes per image, as progress counts
  // adversarial examples), the class taken as 1 / num_classes of the set.
  const double target_rows = options_.poison_rate * train_size / shape().num_classes;
  return static_cast<double>(train_size) * epochs + target_rows * (1 + options_.pgd.steps);
}

at::Tensor LabelConsistent::mask(int64_t h, int64_t w) const {
  const int64_t s = options_.size;
  auto mask = torch::zeros({h, w});
  for (int64_t y : {int64_t{0}, h - s})
    for (int64_t x : {int64_t{0}, w - s}) mask.narrow(0, y, s).narrow(1, x, s).fill_(1.0);
  return mask;
}

at::Tensor LabelConsistent::pattern(int64_t c, int64_t h, int64_t w) const {
  const int64_t s = options_.size;
  auto pattern = torch::zeros({c, h, w});
  for (int64_t y : {int64_t{0}, h - s})
    for (int64_t x : {int64_t{0}, w - s})
      pattern.narrow(1, y, s).narrow(2, x, s).copy_(checkerboard(s).expand({c, -1, -1}));
  return pattern;
}

at::Tensor LabelConsistent::apply_trigger(const at::Tensor& images) const {
  const int64_t c = images.size(1), h = images.size(2), w = images.size(3);
  // Amplitude a: move the corner pixels a of the way to the checkerboard (a = 1: replace them).
  return stamp(images, pattern(c, h, w), options_.amplitude * mask(h, w));
}

void LabelConsistent::prepare(const AttackContext& ctx) {
  Classifier surrogate = train_clean_surrogate(ctx, options_.surrogate_epochs, "lc-surrogate");
  adversarial_rows_ = choose_rows(ctx.clean_train, derive_seed(ctx.seed, "poison"));
  auto labels = ctx.clean_train.labels.index_select(0, adversarial_rows_);
  adversarial_images_ = pgd_sharded(*surrogate, ctx.clean_train, adversarial_rows_, labels,
                                    options_.pgd, ctx.group, derive_seed(ctx.seed, "lc-pgd"));
  if (ctx.progress) ctx.progress({"lc pgd", 0, 1, 1, 1, adversarial_rows_.numel() * (1 + options_.pgd.steps)});
}

at::Tensor LabelConsistent::poison_images(const at::Tensor&, const at::Tensor& rows) const {
  if (!adversarial_images_.defined() || !torch::equal(rows, adversarial_rows_))
    throw RunError("lc: poison() needs prepare() with the same seed first");
  return apply_trigger(adversarial_images_);
}

void LabelConsistent::restore(const NamedTensors& state) {
  adversarial_rows_ = state_tensor(state, "adversarial_rows").to(torch::kLong).clone();
  adversarial_images_ = state_tensor(state, "adversarial_images").to(torch::kFloat).clone();
}

NamedTensors LabelConsistent::artifacts(int64_t c, int64_t h, int64_t w) const {
  return {{"trigger_pattern", pattern(c, h, w)}, {"trigger_mask", options_.amplitude * mask(h, w)}};
}

PBE_REGISTER_ATTACK(LabelConsistent, LabelConsistentOptions, "lc",
                    "Label-Consistent (Turner et al. 2019), clean-label: adversarially hardened target images with corner patches")

}  // namespace pbe
