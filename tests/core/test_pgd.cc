#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/adversarial/pgd.h"
#include "core/data/synthetic.h"
#include "core/models/classifier.h"
#include "core/training/trainer.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

struct Trained {
  TrainTest data;
  Classifier model;
};

// A small model that fits synthetic data well, so PGD has something to undo.
const Trained& trained() {
  static const Trained t = [] {
    SyntheticOptions so;
    so.size = 12;
    so.train_size = 512;
    so.test_size = 128;
    Trained out{make_synthetic(so), nullptr};
    ModelOptions m;
    m.image_size = 12;
    m.num_classes = so.num_classes;
    m.width = 8;
    torch::manual_seed(0);
    out.model = make_model(m);
    TrainOptions o;
    o.epochs = 4;
    o.lr = 0.02;
    SingleProcessGroup group;
    train_classifier(*out.model, out.data.train, o, group);
    return out;
  }();
  return t;
}

double accuracy(ClassifierImpl& model, const at::Tensor& x, const at::Tensor& y) {
  torch::NoGradGuard no_grad;
  return model.forward(x).argmax(1).eq(y).to(torch::kDouble).mean().item<double>();
}

TEST(Pgd, LinfStaysInTheBallAndFoolsTheModel) {
  auto& t = trained();
  auto x = to_float(t.data.test.images);
  auto y = t.data.test.labels;
  PgdOptions o;
  o.eps = 16.0 / 255;
  o.step_size = 4.0 / 255;
  o.steps = 10;
  std::vector<at::Tensor> grads_before;
  for (auto& p : t.model->parameters()) grads_before.push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
  auto adv = pgd(*t.model, x, y, o);
  EXPECT_LE((adv - x).abs().max().item<float>(), o.eps + 1e-6);
  EXPECT_GE(adv.min().item<float>(), 0.0f);  // clamped by default
  EXPECT_LE(adv.max().item<float>(), 1.0f);
  const double clean = accuracy(*t.model, x, y), attacked = accuracy(*t.model, adv, y);
  EXPECT_GT(clean, 0.9);
  EXPECT_LT(attacked, clean - 0.3) << clean << " -> " << attacked;
  // The model's mode and parameter gradients are as they were.
  EXPECT_FALSE(t.model->is_training());
  size_t i = 0;
  for (auto& p : t.model->parameters()) {
    EXPECT_TRUE(p.requires_grad());
    ASSERT_EQ(p.grad().defined(), grads_before[i].defined());
    if (p.grad().defined()) EXPECT_TRUE(torch::equal(p.grad(), grads_before[i]));
    ++i;
  }
}

TEST(Pgd, L2StaysInTheBall) {
  auto& t = trained();
  auto x = to_float(t.data.test.images.narrow(0, 0, 32));
  PgdOptions o;
  o.norm = PgdNorm::kL2;
  o.eps = 0.5;
  o.step_size = 0.2;
  o.steps = 5;
  o.random_start = true;
  auto adv = pgd(*t.model, x, t.data.test.labels.narrow(0, 0, 32), o, 3);
  EXPECT_LE((adv - x).flatten(1).norm(2, 1).max().item<float>(), 0.5 + 1e-4);
  EXPECT_TRUE(torch::equal(adv, pgd(*t.model, x, t.data.test.labels.narrow(0, 0, 32), o, 3)));
}

TEST(Pgd, TargetedReachesTheTargetUnclampedWhenAsked) {
  auto& t = trained();
  auto x = to_float(t.data.test.images);
  auto target = torch::zeros_like(t.data.test.labels);
  PgdOptions o;
  o.targeted = true;
  o.eps = 32.0 / 255;
  o.step_size = 4.0 / 255;
  o.steps = 20;
  o.clamp = false;
  auto adv = pgd(*t.model, x, target, o);
  const double hit = accuracy(*t.model, adv, target), base = accuracy(*t.model, x, target);
  EXPECT_GT(hit, base + 0.3) << base << " -> " << hit;
  EXPECT_LE((adv - x).abs().max().item<float>(), o.eps + 1e-6);
}

TEST(Pgd, ShardedOnOneRankEqualsPlainPgd) {
  auto& t = trained();
  SingleProcessGroup group;
  auto rows = torch::arange(10, 60, torch::kLong);
  auto labels = t.data.test.labels.index_select(0, rows);
  PgdOptions o;
  auto sharded = pgd_sharded(*t.model, t.data.test, rows, labels, o, group, 0, 16);
  auto plain = pgd(*t.model, to_float(t.data.test.images.index_select(0, rows)), labels, o);
  EXPECT_TRUE(torch::allclose(sharded, plain, 1e-6, 1e-6));
}

}  // namespace
