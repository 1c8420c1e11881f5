// FST (core/defenses/fst.h): the head is drawn again, pushed away from the original one and kept
// at its norm after every step; a model without a linear head it can see is refused.
#include "core/defenses/fst.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/data/synthetic.h"
#include "core/errors.h"
#include "core/models/scripted_classifier.h"
#include "distributed/single_process_group.h"
#include "tests/trained_model.h"
#include "tests/temp_dir_test.h"
#include "tests/tools/scripted_models.h"

namespace pbe {
namespace {

using pbe::testing::trained_model;

double frobenius(const at::Tensor& a, const at::Tensor& b) { return (a * b).sum().item<double>(); }

// The cosine of the head after FST with `alpha` to the original head W_0; its norm must be W_0's.
double cosine_after(double alpha) {
  auto s = trained_model();
  const at::Tensor original = s.model->linear_head().weight.detach().clone();
  FstOptions o;
  o.epochs = 3;
  o.alpha = alpha;
  o.sgd.batch_size = 16;
  SingleProcessGroup group;
  const Dataset clean = s.data.test.subset(torch::arange(64));
  DefenseContext ctx{s.data.train, clean, {}, group, 4, {}, {}, {}};
  Fst(o).purify(*s.model, ctx);
  const at::Tensor w = s.model->linear_head().weight.detach();
  EXPECT_NEAR(w.norm().item<double>(), original.norm().item<double>(), 1e-4 * original.norm().item<double>()) << alpha;
  return frobenius(w, original) / (w.norm() * original.norm()).item<double>();
}

TEST(Fst, TheNewHeadKeepsTheOriginalNormAndThePenaltyTurnsItAwayFromTheOriginal) {
  // The features were trained for W_0, so fine-tuning alone turns the fresh head towards it; each
  // step's -lr * alpha * W_0 holds it back (the same draws and batches otherwise).
  const double free = cosine_after(0), pushed = cosine_after(0.2), strong = cosine_after(5);
  EXPECT_GT(free, pushed) << "alpha 0: " << free << ", alpha 0.2: " << pushed;
  EXPECT_GT(pushed, strong);
  EXPECT_LT(strong, 0.0) << strong;
}

TEST(Fst, AZeroAlphaStillDrawsANewHeadAtTheOriginalNorm) {
  auto s = trained_model();
  const at::Tensor original = s.model->linear_head().weight.detach().clone();
  FstOptions o;
  o.epochs = 1;
  o.alpha = 0;
  o.sgd.lr = 1e-9;  // the draw and the rescale alone
  SingleProcessGroup group;
  DefenseContext ctx{s.data.train, s.data.test.subset(torch::arange(64)), {}, group, 4, {}, {}, {}};
  Fst(o).purify(*s.model, ctx);
  const at::Tensor w = s.model->linear_head().weight.detach();
  EXPECT_FALSE(torch::allclose(w, original));
  EXPECT_NEAR(w.norm().item<double>(), original.norm().item<double>(), 1e-4 * original.norm().item<double>());
}

class FstScripted : public pbe::testing::TempDirTest {};

TEST_F(FstScripted, FindsAScriptedLinearHeadAndRefusesAModelWithout) {
  pbe::testing::ScriptedNetOptions o;
  o.size = 12;
  o.classes = 4;
  o.linear_module = true;
  const auto with_path = (dir_ / "linear.pt").string();
  pbe::testing::make_scripted_net(o).save(with_path);
  auto with = load_scripted_classifier(with_path, {1, 12, 12, 4});
  const auto head = with->linear_head();
  ASSERT_TRUE(head.weight.defined());
  EXPECT_EQ(head.weight.sizes(), (std::vector<int64_t>{4, 8 * 6 * 6}));
  EXPECT_TRUE(head.weight.is_same(with->named_parameters()["body/fc/weight"]));
  const at::Tensor original = head.weight.detach().clone();

  o.linear_module = false;  // the head's parameters are fc_w, fc_b: no linear layer as PyTorch makes one
  const auto without_path = (dir_ / "bare.pt").string();
  pbe::testing::make_scripted_net(o).save(without_path);
  auto without = load_scripted_classifier(without_path, {1, 12, 12, 4});
  EXPECT_FALSE(without->linear_head().weight.defined());
  SyntheticOptions so;
  so.size = 12;
  const TrainTest data = make_synthetic(so);
  SingleProcessGroup group;
  DefenseContext ctx{data.train, data.test, {}, group, 4, {}, {}, {}};
  try {
    Fst(FstOptions{}).purify(*without, ctx);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("fst: the model's logits come from no linear layer", 0), 0u) << e.what();
  }
  Fst(FstOptions{}).purify(*with, ctx);  // the scripted module's own head is drawn again and rescaled
  const at::Tensor after = with->linear_head().weight.detach();
  EXPECT_FALSE(torch::allclose(after, original));
  EXPECT_NEAR(after.norm().item<double>(), original.norm().item<double>(), 1e-4 * original.norm().item<double>());
}

}  // namespace
}  // namespace pbe
