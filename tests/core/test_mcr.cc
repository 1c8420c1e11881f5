// MCR on a small model: the curve's ends are the infected model and FT's, and training the bend
// lowers the clean loss along the path compared with the straight line.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/data/synthetic.h"
#include "core/defenses/fine_tuning.h"
#include "core/defenses/mcr.h"
#include "core/errors.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

struct Small {
  TrainTest data;
  ModelOptions options;
  Classifier model;
};

Small trained_model() {
  Small r;
  SyntheticOptions so;
  so.size = 12;
  so.train_size = 256;
  so.test_size = 96;
  r.data = make_synthetic(so);
  r.options.image_size = 12;
  r.options.num_classes = 4;
  r.options.width = 4;
  torch::manual_seed(4);
  r.model = make_model(r.options);
  TrainOptions t;
  t.epochs = 3;
  t.batch_size = 32;
  SingleProcessGroup group;
  train_classifier(*r.model, r.data.train, t, group);
  return r;
}

bool same_weights(ClassifierImpl& a, ClassifierImpl& b) {
  for (size_t i = 0; i < a.parameters().size(); ++i)
    if (!torch::allclose(a.parameters()[i], b.parameters()[i], 1e-5, 1e-6)) return false;
  return true;
}

double clean_loss(ClassifierImpl& m, const Dataset& d) {
  torch::NoGradGuard no_grad;
  m.eval();
  return torch::nn::functional::cross_entropy(m.forward(to_float(d.images)), d.labels).item<double>();
}

TEST(Mcr, BezierWeightsInterpolateTheEndsAndSumToOne) {
  EXPECT_EQ(bezier_weights(0), (std::array<double, 3>{1, 0, 0}));
  EXPECT_EQ(bezier_weights(1), (std::array<double, 3>{0, 0, 1}));
  const auto w = bezier_weights(0.3);
  EXPECT_DOUBLE_EQ(w[0] + w[1] + w[2], 1.0);
  EXPECT_DOUBLE_EQ(w[1], 2 * 0.3 * 0.7);
}

TEST(Mcr, EndsAreTheInfectedModelAndFineTuning) {
  Small s = trained_model();
  SingleProcessGroup group;
  DefenseContext ctx{s.data.train, s.data.test, {}, group, 6, {}, {}, {}};
  McrOptions o;
  o.endpoint_epochs = 2;
  o.curve_epochs = 1;
  o.sgd.batch_size = 32;
  o.t = 0;
  Classifier start = s.model->replicate();
  Mcr(o).purify(*start, ctx);
  EXPECT_TRUE(same_weights(*start, *s.model)) << "t = 0 is the infected model";
  o.t = 1;
  Classifier end = s.model->replicate(), tuned = s.model->replicate();
  Mcr(o).purify(*end, ctx);
  FineTuningOptions f;
  f.epochs = 2;
  f.sgd = o.sgd;
  FineTuning(f).purify(*tuned, ctx);
  EXPECT_TRUE(same_weights(*end, *tuned)) << "t = 1 is FT's model";
}

TEST(Mcr, TrainingTheBendLowersTheLossAlongThePath) {
  Small s = trained_model();
  SingleProcessGroup group;
  DefenseContext ctx{s.data.train, s.data.test, {}, group, 6, {}, {}, {}};
  McrOptions o;
  o.endpoint_epochs = 3;
  o.sgd.batch_size = 32;
  o.sgd.lr = 0.05;
  double straight = 0, curved = 0;
  for (double t : {0.25, 0.5, 0.75}) {
    o.t = t;
    o.curve_epochs = 0;  // the bend at the midpoint: the straight line
    Classifier line = s.model->replicate();
    Mcr(o).purify(*line, ctx);
    straight += clean_loss(*line, s.data.test);
    o.curve_epochs = 8;
    Classifier curve = s.model->replicate();
    DefenseResult r = Mcr(o).purify(*curve, ctx);
    EXPECT_EQ(r.curve.size(), 8u);
    curved += clean_loss(*curve, s.data.test);
  }
  EXPECT_LT(curved, straight) << "mean clean loss on the path: straight " << straight / 3 << ", trained " << curved / 3;
}

TEST(Mcr, SweepRecordsTheEvaluatorAlongTheCurve) {
  Small s = trained_model();
  SingleProcessGroup group;
  std::vector<double> seen;
  EvalFn evaluate = [&](ClassifierImpl& m) {
    seen.push_back(clean_loss(m, s.data.test));
    return EvalPoint{0.5, 0.1};
  };
  DefenseContext ctx{s.data.train, s.data.test, {}, group, 6, evaluate, {}, {}};
  McrOptions o;
  o.endpoint_epochs = 1;
  o.curve_epochs = 1;
  o.sweep_step = 0.25;
  DefenseResult r = Mcr(o).purify(*s.model, ctx);
  ASSERT_EQ(r.steps.size(), 3u);
  EXPECT_EQ(r.steps[0].second, (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(seen.size(), 5u);
  McrOptions bad;
  bad.t = 1.5;
  EXPECT_THROW(Mcr{bad}, ConfigError);
}

TEST(Mcr, ReestimatesBatchNormStatisticsAtThePoint) {
  Small s = trained_model();
  ModelOptions m = s.options;
  m.name = "preact-resnet18";
  torch::manual_seed(3);
  Classifier model = make_model(m);
  SingleProcessGroup group;
  DefenseContext ctx{s.data.train, s.data.test, {}, group, 6, {}, {}, {}};
  McrOptions o;
  o.endpoint_epochs = 1;
  o.curve_epochs = 1;
  o.t = 0;
  Mcr(o).purify(*model, ctx);
  // The first block's first BN sees the stem's output: its running mean is that output's channel
  // mean over the clean set (one batch of 96 images).
  torch::nn::BatchNorm2dImpl* first = nullptr;
  torch::nn::Conv2dImpl* stem = nullptr;
  for (const auto& item : model->named_modules("", false)) {
    if (!first) first = item.value()->as<torch::nn::BatchNorm2d>();
    if (item.key() == "stem") stem = item.value()->as<torch::nn::Conv2d>();
  }
  ASSERT_TRUE(first && stem);
  torch::NoGradGuard no_grad;
  auto x = to_float(s.data.test.images);
  const auto mean = torch::tensor(std::vector<float>{0.5f}).view({1, -1, 1, 1});
  auto stemmed = stem->forward((x - mean) / 0.5);  // the model's normalisation (mean 0.5, std 0.5)
  EXPECT_TRUE(torch::allclose(first->running_mean, stemmed.mean({0, 2, 3}), 1e-4, 1e-5));
  EXPECT_FALSE(model->is_training());
}

}  // namespace
