#include "core/defenses/fine_tuning.h"

#include "core/defenses/registry.h"
#include "core/errors.h"

namespace pbe {

FineTuning::FineTuning(const FineTuningOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1))
    throw ConfigError("ft: clean_fraction must be in (0, 1]");
  if (o.epochs < 1) throw ConfigError("ft: epochs must be positive");
  o.sgd.check("ft");
}

double FineTuning::estimated_image_epochs(const WorkSize& size) const {
  return options_.epochs * static_cast<double>(size.clean);
}

DefenseResult FineTuning::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  if (ctx.clean_extra.size() == 0) throw ConfigError("ft: the clean extra set is empty");
  TrainOptions train = options_.sgd.train_options(options_.epochs, ctx.augmentation, ctx.seed, "ft");
  DefenseResult result;
  result.curve = train_classifier(model, ctx.clean_extra, train, ctx.group, ctx.evaluate, ctx.progress);
  return result;
}

PBE_REGISTER_DEFENSE(FineTuning, FineTuningOptions, "ft",
                     "FT: fine-tuning on the clean extra set (BackdoorBench)")

}  // namespace pbe
