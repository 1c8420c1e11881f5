// FT-SAM (core/defenses/ft_sam.h): the weight perturbation has the radius it is given, one step
// differs from plain SGD by the first-order amount lr * H e, and the second pass leaves batch
// norm's running statistics alone.
#include "core/defenses/ft_sam.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/data/synthetic.h"
#include "core/models/scripted_classifier.h"
#include "distributed/single_process_group.h"
#include "tests/trained_model.h"
#include "tests/temp_dir_test.h"
#include "tests/tools/scripted_models.h"

namespace pbe {
namespace {

using pbe::testing::trained_model;

double norm_of(const std::vector<at::Tensor>& parts) {
  double sum = 0;
  for (const auto& p : parts) sum += p.defined() ? p.square().sum().item<double>() : 0.0;
  return std::sqrt(sum);
}

TEST(FtSam, ThePerturbationHasRadiusRhoInItsOwnMetric) {
  torch::manual_seed(1);
  const std::vector<at::Tensor> w{torch::randn({3, 4}), torch::randn({5})};
  const std::vector<at::Tensor> g{torch::randn({3, 4}), torch::randn({5})};
  const auto e = sam_perturbation(w, g, 0.7, /*adaptive=*/false);  // SAM: rho g / ||g||
  EXPECT_NEAR(norm_of(e), 0.7, 1e-5);
  EXPECT_TRUE(torch::allclose(e[1], g[1] * (0.7 / norm_of(g)), 1e-5, 1e-6));
  const auto a = sam_perturbation(w, g, 0.7, /*adaptive=*/true);  // ASAM: ||e / |w| || = rho, along w^2 g
  EXPECT_NEAR(norm_of({a[0] / w[0].abs(), a[1] / w[1].abs()}), 0.7, 1e-4);
  EXPECT_TRUE(torch::allclose(a[0] / (w[0].square() * g[0]), torch::full({3, 4}, (a[1] / (w[1].square() * g[1]))[0].item<double>()),
                              1e-4, 1e-6));
  const auto none = sam_perturbation(w, {at::Tensor(), at::Tensor()}, 0.7, false);
  EXPECT_FALSE(none[0].defined());
}

TEST(FtSam, TheLearningRateFollowsBackdoorBenchsPerBatchCosine) {
  FtSamOptions o;
  EXPECT_DOUBLE_EQ(ft_sam_learning_rate(o, 0, 1000), 0.01);
  EXPECT_NEAR(ft_sam_learning_rate(o, 50, 1000), 0.005, 1e-12);
  EXPECT_NEAR(ft_sam_learning_rate(o, 100, 1000), 0.0, 1e-12);  // T_max = 100 steps: zero, then back up
  EXPECT_NEAR(ft_sam_learning_rate(o, 200, 1000), 0.01, 1e-12);
  o.lr_period_steps = 0;  // one annealing over the run
  EXPECT_NEAR(ft_sam_learning_rate(o, 500, 1000), 0.005, 1e-12);
}

// One step on one batch (no momentum, no weight decay, plain SAM): w_sam - w_sgd =
// -lr (g(w + e) - g(w)) = -lr H e + O(rho^2), e = rho g / ||g||; H e by double backpropagation.
// On a TorchScript model with tanh and average pooling, whose gradient is differentiable (a ReLU
// network's jumps where units switch, which H e does not see, are first-order too).
class FtSamStep : public pbe::testing::TempDirTest {};

TEST_F(FtSamStep, DiffersFromSgdByTheFirstOrderAmount) {
  pbe::testing::ScriptedNetOptions net;
  net.size = 12;
  net.classes = 4;
  net.smooth = true;
  const auto path = (dir_ / "smooth.pt").string();
  pbe::testing::make_scripted_net(net).save(path);
  const auto model = load_scripted_classifier(path, {1, 12, 12, 4});
  SyntheticOptions so;
  so.size = 12;
  const TrainTest data = make_synthetic(so);
  const Dataset clean = data.test.subset(torch::arange(64));
  const double lr = 0.5;
  const auto loss_of = [&](ClassifierImpl& m) {
    const double k = 0.1, classes = 4;
    auto target = torch::full({64, 4}, k / (classes - 1)).scatter_(1, clean.labels.unsqueeze(1), 1 - k);
    return -(target * torch::log_softmax(m.forward(to_float(clean.images)), 1)).sum(1).mean();
  };
  auto probe = model->replicate();
  std::vector<at::Tensor> w;
  for (auto& p : probe->parameters()) w.push_back(p);
  const auto g = torch::autograd::grad({loss_of(*probe)}, w, {}, /*retain_graph=*/true, /*create_graph=*/true);
  double norm = 0;
  for (const auto& x : g) norm += x.square().sum().item<double>();
  norm = std::sqrt(norm);

  std::vector<double> residuals;
  for (double rho : {0.04, 0.02}) {
    std::vector<at::Tensor> e;
    at::Tensor ge = torch::zeros({});
    for (size_t i = 0; i < g.size(); ++i) {
      e.push_back(g[i].detach() * (rho / norm));
      ge = ge + (g[i] * e.back()).sum();
    }
    const auto he = torch::autograd::grad({ge}, w, {}, /*retain_graph=*/true);
    FtSamOptions o;
    o.epochs = 1;
    o.batch_size = 64;
    o.rho = rho;
    o.adaptive = false;
    o.momentum = 0;
    o.weight_decay = 0;
    o.lr = lr;
    o.lr_period_steps = 0;
    SingleProcessGroup group;
    auto stepped = model->replicate();
    DefenseContext ctx{data.train, clean, {}, group, 4, {}, {}, {}};
    FtSam(o).purify(*stepped, ctx);
    const auto after = stepped->parameters();
    double dot = 0, diff_sq = 0, expected_sq = 0, residual_sq = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      const auto sgd = w[i].detach() - lr * g[i].detach();
      const auto diff = after[i].detach() - sgd, expected = -lr * he[i];
      dot += (diff * expected).sum().item<double>();
      diff_sq += diff.square().sum().item<double>();
      expected_sq += expected.square().sum().item<double>();
      residual_sq += (diff - expected).square().sum().item<double>();
    }
    EXPECT_GT(dot / std::sqrt(diff_sq * expected_sq), 0.99) << "rho " << rho;
    EXPECT_NEAR(std::sqrt(diff_sq / expected_sq), 1.0, 0.05) << "rho " << rho;
    residuals.push_back(std::sqrt(residual_sq));
  }
  // The remainder is second order: halving rho quarters it (measured: cosine 0.99993, norm ratio
  // 1.014 at rho 0.04; the remainder 1.9% and 0.9% of H e, so a quarter in absolute terms).
  EXPECT_LT(residuals[1], 0.5 * residuals[0]);
}

// The second pass (at w + e) runs on the batch's own statistics but does not move the running
// ones: after one step they are what one training-mode forward on that batch leaves.
TEST(FtSam, TheSecondPassLeavesTheRunningStatisticsAlone) {
  auto s = trained_model("preact-resnet18", 4);
  const Dataset clean = s.data.test.subset(torch::arange(32));
  auto once = clone_model(*s.model, s.model_options);
  once->train();
  {
    torch::NoGradGuard no_grad;
    once->forward(to_float(clean.images));
  }
  FtSamOptions o;
  o.epochs = 1;
  o.batch_size = 32;
  SingleProcessGroup group;
  auto model = clone_model(*s.model, s.model_options);
  DefenseContext ctx{s.data.train, clean, {}, group, 4, {}, {}, {}};
  FtSam(o).purify(*model, ctx);
  const auto a = model->named_buffers(), b = once->named_buffers(), before = s.model->named_buffers();
  int compared = 0;
  for (const auto& item : a) {
    if (item.key().find("running_") == std::string::npos) continue;
    EXPECT_TRUE(torch::allclose(item.value(), b[item.key()], 1e-4, 1e-6)) << item.key();
    EXPECT_FALSE(torch::allclose(item.value(), before[item.key()])) << item.key() << " moved once";
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

}  // namespace
}  // namespace pbe
