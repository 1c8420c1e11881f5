#include "core/defenses/nad.h"

#include <torch/torch.h>

#include <cmath>

#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/random.h"

namespace pbe {

at::Tensor attention_map(const at::Tensor& maps, double power) {
  auto a = maps.abs().pow(power).sum(1).flatten(1);
  return a / (a.norm(2, /*dim=*/{1}, /*keepdim=*/true) + 1e-6);
}

at::Tensor attention_loss(const at::Tensor& student, const at::Tensor& teacher, double power) {
  return (attention_map(student, power) - attention_map(teacher, power)).pow(2).mean();
}

Nad::Nad(const NadOptions& o) : options_(o) {
  if (!(o.clean_fraction > 0 && o.clean_fraction <= 1)) throw ConfigError("nad: clean_fraction must be in (0, 1]");
  if (o.teacher_epochs < 1 || o.epochs < 1) throw ConfigError("nad: teacher_epochs and epochs must be positive");
  if (o.betas.empty()) throw ConfigError("nad: betas must name at least one stage");
  for (double b : o.betas)
    if (!(b >= 0)) throw ConfigError("nad: betas must be >= 0");
  if (!(o.power > 0)) throw ConfigError("nad: power must be positive");
  o.sgd.check("nad");
}

double Nad::estimated_image_epochs(const WorkSize& size) const {
  // Image passes as progress counts them (a distillation step also runs the teacher forward).
  const double n = static_cast<double>(size.clean);
  return n * (options_.teacher_epochs + options_.epochs);
}

DefenseResult Nad::purify(ClassifierImpl& model, const DefenseContext& ctx) const {
  if (ctx.clean_extra.size() == 0) throw ConfigError("nad: the clean extra set is empty");
  {
    torch::NoGradGuard no_grad;
    FrozenModel frozen(model);
    const auto stages = model.forward_stages(to_float(ctx.clean_extra.images.narrow(0, 0, 1)).to(model.device())).stages.size();
    if (stages != options_.betas.size())
      throw ConfigError("nad: betas has " + std::to_string(options_.betas.size()) + " weights but the model exposes " +
                        std::to_string(stages) + " stages");
  }
  auto teacher = model.replicate();
  TrainOptions t = options_.sgd.train_options(options_.teacher_epochs, ctx.augmentation,
                                              derive_seed(ctx.seed, "teacher"), "nad teacher");
  train_classifier(*teacher, ctx.clean_extra, t, ctx.group, {}, ctx.progress);
  teacher->eval();
  for (auto& p : teacher->parameters()) p.requires_grad_(false);

  TrainOptions s = options_.sgd.train_options(options_.epochs, ctx.augmentation, ctx.seed, "nad student");
  s.forward = [teacher, betas = options_.betas, power = options_.power](ClassifierImpl& student, const at::Tensor& x) {
    auto out = student.forward_stages(x);
    std::vector<at::Tensor> guide;
    {
      torch::NoGradGuard no_grad;
      guide = teacher->forward_stages(x).stages;
    }
    at::Tensor extra = torch::zeros({}, out.logits.options());
    for (size_t i = 0; i < betas.size(); ++i) extra = extra + betas[i] * attention_loss(out.stages[i], guide[i], power);
    return std::make_pair(out.logits, extra);
  };
  DefenseResult result;  // the curve is the student's
  result.curve = train_classifier(model, ctx.clean_extra, s, ctx.group, ctx.evaluate, ctx.progress);
  return result;
}

PBE_REGISTER_DEFENSE(Nad, NadOptions, "nad",
                     "Neural Attention Distillation (Li et al. 2021): a fine-tuned teacher's attention maps distilled into the model")

}  // namespace pbe
