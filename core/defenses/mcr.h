#pragma once
#include <array>

#include "core/defenses/defense.h"

namespace pbe {

// MCR, Mode Connectivity Repair (Zhao et al. 2020). The endpoints are the infected model (t = 0)
// and a copy fine-tuned on the clean extra set (t = 1, FT's recipe for endpoint_epochs); a
// quadratic Bezier curve w(t) = (1-t)^2 w0 + 2t(1-t) theta + t^2 w1 joins them, its bend theta
// (from the midpoint) trained on the clean set with t drawn uniformly per batch, so that the
// whole path has low loss. The repaired model is w(t) at t = `t` (backdoors fade away from the
// infected end before the clean loss rises); batch-norm statistics are re-estimated there on the
// clean set. Defaults: the release's curve (one bend, 100 epochs, SGD lr 0.01, momentum 0.9),
// BackdoorBench's t = 0.3 (its v1; the release only sweeps t) and FT's endpoint.
struct McrOptions {
  double clean_fraction = 0.05;
  int endpoint_epochs = 10;
  int curve_epochs = 100;
  double t = 0.3;
  double sweep_step = 0;  // The repair never looks at the sweep.
  SgdRecipe sgd;
  void visit(OptionVisitor& v) {
    v("clean_fraction", clean_fraction, "clean extra set size / training set size");
    v("endpoint_epochs", endpoint_epochs, "fine-tuning epochs of the t = 1 endpoint");
    v("curve_epochs", curve_epochs, "training epochs of the curve's bend");
    v("t", t, "where on the curve the repaired model lies (0 = infected, 1 = fine-tuned)");
    v("sweep_step", sweep_step, "for the record only: ACC/ASR at t = 0, this, twice this, ..., 1; 0 = none");
    sgd.visit(v);  // the endpoint's fine-tuning and the curve's training
  }
};

class Mcr final : public Defense {
 public:
  explicit Mcr(const McrOptions& options);  // ConfigError on bad options
  std::string name() const override { return "mcr"; }
  double clean_fraction() const override { return options_.clean_fraction; }
  double estimated_image_epochs(const WorkSize& size) const override;
  // curve: the bend's training; steps: the sweep (sweep_step > 0 and an evaluator): t, acc, asr.
  DefenseResult purify(ClassifierImpl& model, const DefenseContext& context) const override;

 private:
  McrOptions options_;
};

// The three Bernstein weights of a quadratic Bezier curve at t: (1-t)^2, 2t(1-t), t^2.
std::array<double, 3> bezier_weights(double t);

}  // namespace pbe
