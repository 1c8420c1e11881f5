#include "core/defenses/aft.h"

#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/random.h"

namespace pbe {

SgdRecipe pbe_sgd_recipe() {
  SgdRecipe r;
  r.batch_size = 128;
  r.lr = 0.001;
  r.momentum = 0.9;
  r.weight_decay = 5e-4;
  r.schedule = LrSchedule::kConstant;
  return r;
}

BatchTransform adversarial_transform(const PgdOptions& pgd, uint64_t seed,
                                     std::function<bool(int, int64_t)> adversarial) {
  BatchTransform t;
  t.apply = [pgd, seed, adversarial](ClassifierImpl& model, const at::Tensor& x, const at::Tensor& y, int epoch,
                                     int64_t batch) {
    return adversarial(epoch, batch) ? pbe::pgd(model, x, y, pgd, mix_seed(seed, epoch, batch)) : x;
  };
  t.extra_passes = [steps = pgd.steps, adversarial](int epoch, int64_t batch) {
    return adversarial(epoch, batch) ? steps : 0;
  };
  return t;
}

Augmentation DefenseAugmentation::resolve(const Dataset& data, const Augmentation& dataset_augmentation) const {
  switch (kind) {
    case Kind::kAuto: return data.channels() == 3 ? pbe_release_augmentation() : dataset_augmentation;
    case Kind::kRelease: return pbe_release_augmentation();
    case Kind::kDataset: return dataset_augmentation;
    case Kind::kCustom: return custom;
  }
  return dataset_augmentation;
}

std::string DefenseAugmentation::name() const {
  switch (kind) {
    case Kind::kAuto: return "auto";
    case Kind::kRelease: return "release";
    case Kind::kDataset: return "dataset";
    case Kind::kCustom: return "custom";
  }
  return "?";
}

void DefenseAugmentation::check(const std::string& owner) const {
  if (kind == Kind::kCustom) check_augmentation(custom, owner);
}

Aft::Aft(const AftOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1)) throw ConfigError("aft: clean_fraction must be in (0, 1]");
  if (o.epochs < 1) throw ConfigError("aft: epochs must be positive");
  o.sgd.check("aft");
  if (o.adversarial_epochs < 0 || o.adversarial_epochs > o.epochs)
    throw ConfigError("aft: adversarial_epochs must be in [0, epochs]");
  check_pgd_options(o.pgd, "aft");
  o.augmentation.check("aft");
}

double Aft::estimated_image_epochs(const WorkSize& size) const {
  // A PGD example costs ~steps forward-backward passes.
  const double n = static_cast<double>(size.clean);
  return n * (options_.epochs + options_.adversarial_epochs * options_.pgd.steps);
}

DefenseResult Aft::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  if (ctx.clean_extra.size() == 0) throw ConfigError("aft: the clean extra set is empty");
  const Augmentation augmentation = options_.augmentation.resolve(ctx.clean_extra, ctx.augmentation);
  TrainOptions t = options_.sgd.train_options(options_.epochs, augmentation, ctx.seed, "aft");
  const int adversarial_epochs = options_.adversarial_epochs;
  t.transform = adversarial_transform(options_.pgd, derive_seed(ctx.seed, "pgd"),
                                      [adversarial_epochs](int epoch, int64_t) { return epoch < adversarial_epochs; });
  DefenseResult result;
  result.curve = train_classifier(model, ctx.clean_extra, t, ctx.group, ctx.evaluate, ctx.progress);
  return result;
}

PBE_REGISTER_DEFENSE(Aft, AftOptions, "aft",
                     "AFT (Mu et al. 2023), clean data: fine-tuning on adversarial examples, then on the clean set")

}  // namespace pbe
