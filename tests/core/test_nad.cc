// NAD's attention map and loss on hand-built tensors, and its distillation on a small model.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/data/synthetic.h"
#include "core/defenses/fine_tuning.h"
#include "core/defenses/nad.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/training/trainer.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

TEST(NadAttention, MapSumsPowersOverChannelsAndHasUnitNorm) {
  // One image, two channels of 2x2. |a|^2 summed over channels: [1+0, 0+1, 0+0, 4+0].
  auto maps = torch::tensor({{{{-1.0f, 0.0f}, {0.0f, 2.0f}}, {{0.0f, 1.0f}, {0.0f, 0.0f}}}});
  auto a = attention_map(maps, 2.0);
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{1, 4}));
  const float n = std::sqrt(18.0f);
  EXPECT_TRUE(torch::allclose(a, torch::tensor({{1 / n, 1 / n, 0.0f, 4 / n}}), 1e-5, 1e-6)) << a;
  // p = 1 sums absolute values: [1, 1, 0, 2] / sqrt(6).
  const float m = std::sqrt(6.0f);
  EXPECT_TRUE(torch::allclose(attention_map(maps, 1.0), torch::tensor({{1 / m, 1 / m, 0.0f, 2 / m}}), 1e-5, 1e-6));
  // Per image: a second image scaled by 10 has the same map.
  auto two = torch::cat({maps, 10 * maps});
  auto b = attention_map(two, 2.0);
  EXPECT_TRUE(torch::allclose(b[0], b[1], 1e-5, 1e-6));
}

TEST(NadAttention, LossIsTheMeanSquaredDifferenceOfTheMaps) {
  // Student attends to position 0, teacher to position 3: maps [1,0,0,0] and [0,0,0,1].
  auto student = torch::zeros({1, 3, 2, 2});
  auto teacher = torch::zeros({1, 3, 2, 2});
  student[0][1][0][0] = 5.0f;
  teacher[0][2][1][1] = -0.5f;
  EXPECT_NEAR(attention_loss(student, teacher, 2.0).item<float>(), 2.0f / 4, 1e-5);
  // Scale-free, zero for the same pattern, and averaged over images.
  EXPECT_NEAR(attention_loss(3 * teacher, teacher, 2.0).item<float>(), 0.0f, 1e-6);
  auto s2 = torch::cat({student, teacher}), t2 = torch::cat({teacher, teacher});
  EXPECT_NEAR(attention_loss(s2, t2, 2.0).item<float>(), 1.0f / 4, 1e-5);
  // The gradient flows to the student.
  auto s = student.clone().requires_grad_(true);
  attention_loss(s, teacher, 2.0).backward();
  EXPECT_GT(s.grad().abs().sum().item<float>(), 0.0f);
}

struct Small {
  TrainTest data;
  ModelOptions options;
  Classifier model;
};

Small small_model() {
  Small r;
  SyntheticOptions so;
  so.size = 12;
  so.train_size = 160;
  so.test_size = 64;
  r.data = make_synthetic(so);
  r.options.image_size = 12;
  r.options.num_classes = 4;
  r.options.width = 4;
  torch::manual_seed(5);
  r.model = make_model(r.options);
  return r;
}

bool same_weights(ClassifierImpl& a, ClassifierImpl& b) {
  auto pa = a.parameters(), pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    if (!torch::equal(pa[i], pb[i])) return false;
  return true;
}

TEST(Nad, WithZeroBetasIsFineTuningAndWithBetasPullsTowardsTheTeacher) {
  Small s = small_model();
  SingleProcessGroup group;
  DefenseContext ctx{s.data.train, s.data.test, {}, group, 3, {}, {}, {}};
  NadOptions o;
  o.teacher_epochs = 4;  // a teacher other than the 2-epoch fine-tuned student
  o.epochs = 2;
  o.sgd.batch_size = 32;
  o.betas = {0, 0, 0};
  Classifier plain = s.model->replicate(), distilled = s.model->replicate(), tuned = s.model->replicate();
  Nad(o).purify(*plain, ctx);
  FineTuningOptions f;
  f.epochs = 2;
  f.sgd = o.sgd;
  FineTuning(f).purify(*tuned, ctx);
  EXPECT_TRUE(same_weights(*plain, *tuned)) << "NAD with zero betas is fine-tuning of the student";
  // Betas of 10, not the release's 500-1000: on this 12x12 model those overshoot, and the student
  // ends farther from the teacher than plain fine-tuning leaves it (measured 2026-11-30 with equal
  // betas at every stage, the distance summed over the stages: 1000: 3.1e-3 against 1.9e-4; 1 and
  // 10 lower it, 100 and 1000 raise it).
  o.betas = {10, 10, 10};
  Nad(o).purify(*distilled, ctx);
  EXPECT_FALSE(same_weights(*distilled, *tuned)) << "the attention loss changed the training";
  // The model passed in is the student: the infected model it started from is untouched.
  EXPECT_FALSE(same_weights(*distilled, *s.model));

  // The pull: NAD's teacher (the infected model fine-tuned teacher_epochs with its seed), and each
  // stage's attention maps on the test images, nearer the teacher's for the distilled student
  // than for the plainly fine-tuned one.
  Classifier teacher = s.model->replicate();
  train_classifier(*teacher, ctx.clean_extra,
                   o.sgd.train_options(o.teacher_epochs, ctx.augmentation, derive_seed(ctx.seed, "teacher"), "teacher"), group);
  torch::NoGradGuard no_grad;
  for (auto* m : {&teacher, &plain, &distilled}) (*m)->eval();
  const auto x = to_float(s.data.test.images);
  const auto guide = teacher->forward_stages(x).stages;
  const auto from_plain = plain->forward_stages(x).stages, from_distilled = distilled->forward_stages(x).stages;
  double sum_plain = 0, sum_distilled = 0;
  for (size_t i = 0; i < guide.size(); ++i) {
    const double d_plain = attention_loss(from_plain[i], guide[i], o.power).item<double>();
    const double d_distilled = attention_loss(from_distilled[i], guide[i], o.power).item<double>();
    EXPECT_LT(d_distilled, d_plain) << "stage " << i;
    sum_plain += d_plain;
    sum_distilled += d_distilled;
  }
  EXPECT_LT(sum_distilled, 0.8 * sum_plain);
}

TEST(Nad, ChecksOptionsAndTheModelsStages) {
  NadOptions o;
  o.betas = {};
  EXPECT_THROW(Nad{o}, ConfigError);
  o = {};
  o.power = 0;
  EXPECT_THROW(Nad{o}, ConfigError);
  Small s = small_model();
  SingleProcessGroup group;
  DefenseContext ctx{s.data.train, s.data.test, {}, group, 3, {}, {}, {}};
  o = {};
  o.betas = {1000, 1000};  // small-cnn exposes three stages
  try {
    Nad(o).purify(*s.model, ctx);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("exposes 3 stages"), std::string::npos) << e.what();
  }
}

}  // namespace
