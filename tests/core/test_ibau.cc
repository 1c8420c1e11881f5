// I-BAU: the implicit hypergradient against finite differences of the exact bilevel solution on a
// tiny problem, and the defense's record on a small model.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/data/synthetic.h"
#include "core/defenses/ibau.h"
#include "core/errors.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

// inner(w; A) = 0.5 w'Qw - (A u)'w, so w*(A) = Q^-1 A u; outer(w; A) = sum(sin(1.3 w)) + sum(A) w_0.
struct Tiny {
  at::Tensor Q = torch::tensor({{2.0, 0.5}, {0.5, 1.0}}, torch::kDouble);
  at::Tensor u = torch::tensor({0.7, -1.2}, torch::kDouble);
  at::Tensor inner(const at::Tensor& w, const at::Tensor& A) const {
    return 0.5 * w.dot(Q.mv(w)) - A.mv(u).dot(w);
  }
  at::Tensor outer(const at::Tensor& w, const at::Tensor& A) const { return (1.3 * w).sin().sum() + A.sum() * w[0]; }
  at::Tensor solve(const at::Tensor& A) const { return torch::linalg_solve(Q, A.mv(u)); }
  double F(const at::Tensor& A) const { return outer(solve(A), A).item<double>(); }
};

TEST(IbauHypergradient, MatchesFiniteDifferencesOfTheBilevelObjective) {
  Tiny t;
  auto A = torch::tensor({{0.3, -0.4}, {1.1, 0.2}}, torch::kDouble).requires_grad_(true);
  SingleProcessGroup group;
  const auto w_star = t.solve(A.detach());
  auto inner = [&](const at::Tensor& w) { return t.inner(w, A); };
  auto outer = [&](const at::Tensor& w) { return t.outer(w, A); };
  // I - 0.3 Q contracts (eigenvalues 0.34 and 0.76): the unrolled series converges.
  auto hyper = implicit_hypergradient(inner, outer, w_star, {A}, 0.3, 200, group)[0];
  auto fd = torch::zeros({2, 2}, torch::kDouble);
  const double h = 1e-5;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      auto up = A.detach().clone(), down = A.detach().clone();
      up[i][j] += h;
      down[i][j] -= h;
      fd[i][j] = (t.F(up) - t.F(down)) / (2 * h);
    }
  EXPECT_TRUE(torch::allclose(hyper, fd, 1e-6, 1e-7)) << hyper << "\n" << fd;
  // The direct term alone (no fixed-point iterations' worth of v) is not the answer: the implicit
  // part matters on this problem.
  auto direct = implicit_hypergradient(inner, outer, w_star, {A}, 0.3, 0, group)[0];
  EXPECT_FALSE(torch::allclose(direct, fd, 1e-3, 1e-4));
  // K = 5 (I-BAU's default) is an approximation whose error shrinks with K.
  auto five = implicit_hypergradient(inner, outer, w_star, {A}, 0.3, 5, group)[0];
  auto twenty = implicit_hypergradient(inner, outer, w_star, {A}, 0.3, 20, group)[0];
  EXPECT_LT((twenty - fd).norm().item<double>(), (five - fd).norm().item<double>());
}

TEST(IbauHypergradient, DependsOnTheFixedPointMapAndIsLinearInTheOuterLoss) {
  Tiny t;
  auto A = torch::tensor({{0.3, -0.4}, {1.1, 0.2}}, torch::kDouble).requires_grad_(true);
  SingleProcessGroup group;
  const auto w = t.solve(A.detach());
  auto whole = implicit_hypergradient([&](const at::Tensor& v) { return t.inner(v, A); },
                                      [&](const at::Tensor& v) { return t.outer(v, A); }, w, {A}, 0.3, 50, group)[0];
  auto half = implicit_hypergradient([&](const at::Tensor& v) { return 0.5 * t.inner(v, A); },
                                     [&](const at::Tensor& v) { return 0.5 * t.outer(v, A); }, w, {A}, 0.6, 50, group)[0];
  // Halving inner while doubling the step is the same fixed-point map; halving outer halves v.
  EXPECT_TRUE(torch::allclose(2 * half, whole, 1e-9, 1e-12));
}

TEST(Ibau, RecordsEachRoundAndChangesTheModel) {
  SyntheticOptions so;
  so.size = 12;
  so.train_size = 128;
  const TrainTest data = make_synthetic(so);
  ModelOptions m;
  m.image_size = 12;
  m.num_classes = 4;
  m.width = 4;
  torch::manual_seed(1);
  Classifier model = make_model(m);
  Classifier before = model->replicate();
  SingleProcessGroup group;
  IbauOptions o;
  o.rounds = 2;
  o.batch_size = 32;
  o.patched_fraction = 0.25;
  int evaluations = 0;
  DefenseContext ctx{data.train, data.test, {}, group, 5, [&](ClassifierImpl&) { ++evaluations; return EvalPoint{}; }, {}, {}};
  DefenseResult r = Ibau(o).purify(*model, ctx);
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[0].second, (std::vector<double>{0, 1}));
  for (double norm : r.steps[1].second) EXPECT_GT(norm, 0.0);
  EXPECT_EQ(evaluations, 2);
  double moved = 0;
  for (size_t i = 0; i < model->parameters().size(); ++i)
    moved += (model->parameters()[i] - before->parameters()[i]).abs().max().item<double>();
  EXPECT_GT(moved, 1e-4);
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
  IbauOptions bad;
  bad.patched_fraction = 2;
  EXPECT_THROW(Ibau{bad}, ConfigError);
}

}  // namespace
