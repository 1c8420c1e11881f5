#pragma once
#include <functional>
#include <vector>

#include "core/defenses/defense.h"

namespace pbe {

// I-BAU, Implicit Backdoor Adversarial Unlearning (Zeng et al. 2022): the minimax problem
//   min_theta max_delta  CE(f_theta(x + delta), y)
// over the clean extra set, delta one universal perturbation. Each round: delta (from 0) takes one
// SGD pass over the set, maximising CE(f(x + delta), f's own prediction) - reg |delta|^2, and is
// projected into the L2 ball of `radius` (0: none, as the release); then every batch takes one
// Adam step on the model along the implicit hypergradient of the outer loss (CE with delta added
// to `patched_fraction` of the batch's images) through the inner solution delta*(theta) of
// max_delta CE(f(x + delta), y) - reg |delta|^2, the fixed-point map delta - inner_lr * grad being
// unrolled `fixed_point_iterations` times (hypertorch's fixed_point). The model stays in eval mode.
// Defaults are the release's (YiZeng623/I-BAU): 5 rounds, K = 5, inner step 0.1, delta SGD lr 10,
// reg 1e-3, no projection, 1% patched, Adam lr 1e-3, batch 100. Unlike the release, the inner loss
// uses the current batch (the release always uses the first).
struct IbauOptions {
  double clean_fraction = 0.05;
  int rounds = 5;
  int fixed_point_iterations = 5;
  double inner_lr = 0.1;
  double perturbation_lr = 10;
  double regularization = 1e-3;
  double radius = 0;
  double patched_fraction = 0.01;
  double lr = 1e-3;
  int64_t batch_size = 100;
  void visit(OptionVisitor& v) {
    v("clean_fraction", clean_fraction, "clean extra set size / training set size");
    v("rounds", rounds, "perturbation and unlearning rounds");
    v("fixed_point_iterations", fixed_point_iterations, "unrolled steps of the inner fixed-point map (K)");
    v("inner_lr", inner_lr, "step of the inner fixed-point map");
    v("perturbation_lr", perturbation_lr, "SGD learning rate of the universal perturbation");
    v("regularization", regularization, "weight of |delta|^2 in the inner problem");
    v("radius", radius, "L2 radius the perturbation is projected into; 0 = none");
    v("patched_fraction", patched_fraction, "share of each batch that gets the perturbation in the outer loss");
    v("lr", lr, "Adam learning rate of the model");
    v("batch_size", batch_size, "global batch");
  }
};

class Ibau final : public Defense {
 public:
  explicit Ibau(const IbauOptions& options);  // ConfigError on bad options
  std::string name() const override { return "ibau"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  double estimated_image_epochs(const WorkSize& size) const override;
  // steps: one row per round: round, perturbation_norm, fooling_rate (share of the set's last
  // perturbation pass sent off f's own prediction), loss (mean outer loss of the unlearning pass).
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  IbauOptions options_;
};

// This rank's share of a loss of w; summed over the group's ranks it is the loss.
using ShareLoss = std::function<at::Tensor(const at::Tensor& w)>;

// The implicit hypergradient d outer(w*(theta), theta) / d theta for w* a fixed point of
// phi(w) = w - inner_lr * d inner / d w, as hypertorch's fixed_point computes it at `w`:
//   v = sum_{k < iterations} (d phi / d w)^T^k d outer / d w,
//   result = d outer / d theta + (d phi / d theta)^T v.
// Every rank calls it together; each gets the gradients summed over the group (undefined
// gradients count as zero), one per `params` entry.
std::vector<at::Tensor> implicit_hypergradient(const ShareLoss& inner, const ShareLoss& outer, const at::Tensor& w,
                                               const std::vector<at::Tensor>& params, double inner_lr,
                                               int iterations, ProcessGroup& group);

}  // namespace pbe
