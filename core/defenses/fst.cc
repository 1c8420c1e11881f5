#include "core/defenses/fst.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/random.h"

namespace pbe {

Fst::Fst(const FstOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1)) throw ConfigError("fst: clean_fraction must be in (0, 1]");
  if (o.epochs < 1) throw ConfigError("fst: epochs must be positive");
  if (!(o.alpha >= 0)) throw ConfigError("fst: alpha must be >= 0");
  o.sgd.check("fst");
}

double Fst::estimated_image_epochs(const WorkSize& size) const {
  return options_.epochs * static_cast<double>(size.clean);
}

DefenseResult Fst::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  if (ctx.clean_extra.size() == 0) throw ConfigError("fst: the clean extra set is empty");
  const ClassifierImpl::LinearHead head = model.linear_head();
  if (!head.weight.defined())
    throw ConfigError("fst: the model's logits come from no linear layer it exposes (a TorchScript model needs a "
                      "final layer with a 2-D weight and a bias)");
  at::Tensor original;
  double original_norm = 0;
  {
    torch::NoGradGuard no_grad;
    original = head.weight.detach().clone();
    original_norm = original.norm().item<double>();
    // The same draw on every rank (and the trainer starts from rank 0's weights anyway).
    auto gen = at::detail::createCPUGenerator(derive_seed(ctx.seed, "fst/head"));
    const double bound = 1.0 / std::sqrt(static_cast<double>(head.weight.size(1)));
    head.weight.copy_(torch::empty(head.weight.sizes()).uniform_(-bound, bound, gen));
    head.bias.copy_(torch::empty(head.bias.sizes()).uniform_(-bound, bound, gen));
  }
  TrainOptions train = options_.sgd.train_options(options_.epochs, ctx.augmentation, ctx.seed, "fst");
  const double alpha = options_.alpha;
  const at::Tensor weight = head.weight;
  train.forward = [&](ClassifierImpl& m, const at::Tensor& images) {
    // A term of the whole batch's loss, the same on every rank: each rank adds its share.
    return std::make_pair(m.forward(images), alpha * (weight * original).sum());
  };
  train.after_step = [&](ClassifierImpl&) {
    torch::NoGradGuard no_grad;
    weight.mul_(weight.norm().reciprocal() * original_norm);  // no host sync on a GPU
  };
  DefenseResult result;
  result.curve = train_classifier(model, ctx.clean_extra, train, ctx.group, ctx.evaluate, ctx.progress);
  return result;
}

PBE_REGISTER_DEFENSE(Fst, FstOptions, "fst",
                     "FST (Min et al. 2023): fine-tuning with a re-initialised head pushed away from the "
                     "original one and kept at its norm")

}  // namespace pbe
