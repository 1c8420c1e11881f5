#pragma once
// Projected gradient descent (Madry et al. 2018): the one adversarial-example generator that
// attacks (Label-Consistent) and defenses (PBE, AFT, I-BAU) share.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "core/data/dataset.h"
#include "core/models/classifier.h"
#include "core/options.h"
#include "distributed/process_group.h"

namespace pbe {

enum class PgdNorm { kLinf, kL2 };

struct PgdOptions {
  PgdNorm norm = PgdNorm::kLinf;
  double eps = 6.0 / 255;
  double step_size = 1.2 / 255;
  int steps = 7;
  bool random_start = false;
  bool targeted = false;
  bool clamp = true;
  void visit(OptionVisitor& v) {
    v.choice("norm", norm, {{"linf", PgdNorm::kLinf}, {"l2", PgdNorm::kL2}}, "the perturbation's norm ball: linf or l2");
    v("eps", eps, "radius of the ball around the input, pixel scale [0, 1]");
    v("step_size", step_size, "per step: sign step (linf) or normalised-gradient step (l2)");
    v("steps", steps, "ascent steps");
    v("random_start", random_start, "start from a uniform point in the ball instead of the input");
    v("targeted", targeted, "descend CE towards the given labels instead of ascending it");
    v("clamp", clamp, "keep the perturbed image in [0, 1]");
  }
};
// Throws ConfigError "<owner>: ..." for a negative eps, step size or step count.
void check_pgd_options(const PgdOptions& options, const std::string& owner);

// The PBE paper's setting (eps 6/255, step eps/5, 7 steps, no random start, no clamping).
PgdOptions pbe_pgd_options();

// Adversarial versions of float images `x` [N, C, H, W] in [0, 1] for labels `y` (int64 [N]), both
// on the model's device (the result is there too).
// The model runs in eval mode while attacked and gets its mode back. `seed` draws the random
// start. The model's parameter gradients are left untouched.
at::Tensor pgd(ClassifierImpl& model, const at::Tensor& x, const at::Tensor& y,
               const PgdOptions& options, uint64_t seed = 0);

// pgd() over rows `indices` (int64) of `data`, sharded over the group's ranks and gathered:
// every rank returns the same float [indices.size(0), C, H, W] on the CPU. Rows are attacked in batches of
// `batch_size`; the random start of each row depends on `seed` and the row only, so the result
// does not depend on the rank count.
at::Tensor pgd_sharded(ClassifierImpl& model, const Dataset& data, const at::Tensor& indices,
                       const at::Tensor& labels, const PgdOptions& options, ProcessGroup& group,
                       uint64_t seed = 0, int64_t batch_size = 256);

}  // namespace pbe
