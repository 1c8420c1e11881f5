#include "core/probes/observation.h"

#include <torch/torch.h>

namespace pbe {

const std::vector<std::string>& dump_layer_names() {
  static const std::vector<std::string> names{"penultimate", "logits"};
  return names;
}

at::Tensor probe_rows(const Dataset& test, const Attack& attack, int64_t samples, uint64_t seed) {
  auto candidates = attack.asr_mask(test.labels).nonzero().squeeze(1);
  const int64_t n = std::min(samples, candidates.numel());
  return candidates.index_select(0, seeded_sample(candidates.numel(), n, seed));  // both sorted
}

namespace {

// "<kind>/<layer>" -> the first n rows of each kind's activations at each layer, from the kinds'
// penultimate features.
std::vector<std::pair<std::string, at::Tensor>> dump_activations(
    ClassifierImpl& model, const std::vector<std::pair<std::string, at::Tensor>>& features,
    const std::vector<std::string>& layers, int64_t n) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& [kind, f] : features) {
    for (const auto& layer : layers) {
      at::Tensor a;
      if (layer == "penultimate") a = f.narrow(0, 0, n);
      else if (layer == "logits") a = model.head(f.narrow(0, 0, n));
      else throw std::invalid_argument("unknown dump layer '" + layer + "'");
      out.emplace_back(kind + "/" + layer, a.to(torch::kCPU, torch::kFloat).contiguous());
    }
  }
  return out;
}

}  // namespace

double topk_jaccard(const at::Tensor& a, const at::Tensor& b, int k) {
  if (a.size(0) == 0) return 0;
  const int64_t kk = std::min<int64_t>(k, a.size(1));
  auto ia = std::get<1>(a.topk(kk, 1)), ib = std::get<1>(b.topk(kk, 1));
  auto in_a = torch::zeros(a.sizes(), torch::kBool).scatter_(1, ia, true);
  auto in_b = torch::zeros(b.sizes(), torch::kBool).scatter_(1, ib, true);
  auto inter = in_a.logical_and(in_b).sum(1).to(torch::kDouble);
  auto uni = in_a.logical_or(in_b).sum(1).to(torch::kDouble);
  return (inter / uni).mean().item<double>();
}

Observation observe(ClassifierImpl& model, const Dataset& test, const at::Tensor& rows,
                    const Attack& attack, const ProbeOptions& o, ProcessGroup& group, uint64_t seed) {
  Observation out;
  out.samples = rows.numel();
  const int64_t classes = test.num_classes;
  out.confusion = torch::zeros({classes, classes}, torch::kLong);
  if (rows.numel() == 0) return out;
  auto y = test.labels.index_select(0, rows);
  auto adversarial = pgd_sharded(model, test, rows, y, o.pgd, group, seed);
  auto clean = to_float(test.images.index_select(0, rows));
  // Features and predictions of a few thousand images at most: every rank computes them all.
  torch::NoGradGuard no_grad;
  FrozenModel frozen(model);
  auto triggered = attack.apply_trigger(clean);
  const torch::Device device = model.device();
  auto f_adv = model.features(adversarial.to(device)), f_trig = model.features(triggered.to(device));
  auto f_clean = model.features(clean.to(device));
  auto pred = model.head(f_adv).argmax(1).cpu();
  const int64_t dumped = std::min(o.dump_samples, out.samples);
  if (dumped > 0)
    out.activations = dump_activations(model, {{"clean", f_clean}, {"triggered", f_trig}, {"adversarial", f_adv}},
                                       o.dump_layers, dumped);
  for (auto* f : {&f_adv, &f_trig, &f_clean}) *f = f->to(torch::kCPU, torch::kFloat);
  out.confusion.index_put_({y, pred}, torch::ones_like(y), /*accumulate=*/true);
  out.target_fraction = pred.eq(attack.target_labels(y, classes)).to(torch::kDouble).mean().item<double>();
  out.clean_flip = pred.ne(y).to(torch::kDouble).mean().item<double>();
  out.adversarial_to_triggered = (f_adv - f_trig).norm(2, 1).mean().item<double>();
  out.clean_to_triggered = (f_clean - f_trig).norm(2, 1).mean().item<double>();
  out.adversarial_overlap = topk_jaccard(f_adv, f_trig, o.top_k);
  out.clean_overlap = topk_jaccard(f_clean, f_trig, o.top_k);
  return out;
}

}  // namespace pbe
