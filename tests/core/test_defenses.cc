// AFT and PBE: their building blocks; every defense's work estimate.
#include <gtest/gtest.h>

#include <map>
#include <torch/torch.h>

#include "core/data/synthetic.h"
#include "core/defenses/aft.h"
#include "core/defenses/anp.h"
#include "core/defenses/fine_tuning.h"
#include "core/defenses/fst.h"
#include "core/defenses/ft_sam.h"
#include "core/defenses/sau.h"
#include "core/defenses/ibau.h"
#include "core/defenses/mcr.h"
#include "core/defenses/nad.h"
#include "core/defenses/neural_cleanse.h"
#include "core/defenses/pbe.h"
#include "core/errors.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

TEST(PbeScore, CosineScoreIsOneForSameDirectionZeroForOpposite) {
  auto a = torch::tensor({{1.0f, 2.0f}, {1.0f, 0.0f}, {3.0f, -1.0f}});
  auto b = torch::tensor({{2.0f, 4.0f}, {-5.0f, 0.0f}, {1.0f, 3.0f}});
  auto s = cosine_scores(a, b);
  EXPECT_NEAR(s[0].item<float>(), 1.0f, 1e-6);
  EXPECT_NEAR(s[1].item<float>(), 0.0f, 1e-6);
  EXPECT_NEAR(s[2].item<float>(), 0.5f, 1e-6);  // orthogonal
}

TEST(PbeScore, TopFractionKeepsTheHighestScores) {
  auto scores = torch::tensor({0.1f, 0.9f, 0.5f, 0.9f, 0.3f, 0.7f, 0.2f, 0.8f, 0.4f, 0.6f});
  auto top = top_fraction(scores, 0.3);
  EXPECT_TRUE(torch::equal(top, torch::tensor({1, 3, 7}, torch::kLong)));
  // Ties go to the lower row, and the fraction rounds to a row count.
  auto ties = top_fraction(torch::ones({5}), 0.4);
  EXPECT_TRUE(torch::equal(ties, torch::tensor({0, 1}, torch::kLong)));
  EXPECT_EQ(top_fraction(scores, 1.0).numel(), 10);
}

TEST(DefenseAugmentation, AutoIsTheReleasesOnCifarLikeDataAndTheDatasetsOtherwise) {
  using Kind = DefenseAugmentation::Kind;
  SyntheticOptions grey, rgb;
  rgb.channels = 3;
  const Dataset g = make_synthetic(grey).train, c = make_synthetic(rgb).train;
  const Augmentation usual{2, false};
  DefenseAugmentation a;
  EXPECT_EQ(a.resolve(g, usual).crop_padding, 2);
  EXPECT_EQ(a.resolve(c, usual).crop_padding, 5);
  EXPECT_DOUBLE_EQ(a.resolve(c, usual).rotation_degrees, 10);
  a.kind = Kind::kRelease;
  EXPECT_EQ(a.resolve(g, usual).crop_padding, 5);
  a.kind = Kind::kDataset;
  EXPECT_EQ(a.resolve(c, usual).crop_padding, 2);
  a.kind = Kind::kCustom;
  a.custom.rotation_degrees = 3;
  EXPECT_DOUBLE_EQ(a.resolve(g, usual).rotation_degrees, 3);
  EXPECT_EQ(a.name(), "custom");
}

TEST(PbeOptions, FractionsMustMatchSteps) {
  PbeOptions o;
  o.steps = 3;
  EXPECT_THROW(Pbe{o}, ConfigError);
  o.fractions = {0.2, 0.5};
  EXPECT_NO_THROW(Pbe{o});
  o.fractions = {0.2, 1.5};
  EXPECT_THROW(Pbe{o}, ConfigError);
  AftOptions a;
  a.adversarial_epochs = 30;
  EXPECT_THROW(Aft{a}, ConfigError);
}

TEST(AdversarialTransform, OnlyWhereAskedAndWithinEps) {
  torch::manual_seed(0);
  ModelOptions m;
  m.image_size = 12;
  m.num_classes = 4;
  m.width = 8;
  Classifier model = make_model(m);
  PgdOptions pgd;
  auto t = adversarial_transform(pgd, 1, [](int epoch, int64_t batch) { return epoch == 0 && batch < 2; });
  auto x = torch::rand({4, 1, 12, 12});
  auto y = torch::tensor({0, 1, 2, 3}, torch::kLong);
  EXPECT_TRUE(torch::equal(t(*model, x, y, 0, 5), x));
  EXPECT_TRUE(torch::equal(t(*model, x, y, 1, 0), x));
  auto adv = t(*model, x, y, 0, 1);
  EXPECT_FALSE(torch::equal(adv, x));
  EXPECT_LE((adv - x).abs().max().item<float>(), pgd.eps + 1e-6);
}

// Progress counts image passes (a PGD example of k steps is 1 + k), per phase, so every defense's
// progress adds up to exactly the work its estimate plans with, and a run's "done" reaches 100%.
TEST(WorkEstimate, EveryDefensesProgressAddsUpToItsEstimate) {
  SyntheticOptions so;
  so.size = 12;
  so.train_size = 400;
  TrainTest data = make_synthetic(so);
  ModelOptions m;
  m.image_size = 12;
  m.num_classes = 4;
  m.width = 8;
  SingleProcessGroup group;
  auto run = [&](const Defense& d, const Dataset& clean_extra) {
    torch::manual_seed(0);
    Classifier model = make_model(m);
    std::map<std::string, int64_t> phases;  // images of each phase's last event
    ProgressFn progress = [&](const ProgressEvent& e) { phases[e.phase] = e.images; };
    DefenseContext ctx{data.train, clean_extra, {}, group, 1, {}, progress, {}};
    d.purify(*model, ctx);
    double total = 0;
    for (const auto& [phase, images] : phases) total += static_cast<double>(images);
    return total;
  };
  AftOptions a;
  a.epochs = 3;
  a.adversarial_epochs = 1;
  a.pgd.steps = 2;
  a.clean_fraction = 0.25;
  Aft aft(a);
  EXPECT_DOUBLE_EQ(run(aft, data.train.subset(torch::arange(100, torch::kLong))), aft.estimated_image_epochs({400, 100, 4}));
  PbeOptions p;
  p.steps = 2;
  p.fractions = {0.5};
  p.epochs_per_step = 2;
  p.adversarial_batches = 1;
  p.sgd.batch_size = 64;
  p.pgd.steps = 2;
  p.initial_fraction = 0.25;
  Pbe pbe(p);
  EXPECT_DOUBLE_EQ(run(pbe, Dataset{}), pbe.estimated_image_epochs({400, 100, 4}));

  // The baselines, on a clean extra set of 25% = 100 rows (batches that divide it).
  const Dataset clean = data.train.subset(torch::arange(100, torch::kLong));
  FineTuningOptions f;
  f.clean_fraction = 0.25;
  f.epochs = 2;
  FineTuning ft(f);
  EXPECT_DOUBLE_EQ(run(ft, clean), ft.estimated_image_epochs({400, 100, 4})) << "ft";
  NadOptions n;
  n.clean_fraction = 0.25;
  n.teacher_epochs = 2;
  n.epochs = 1;
  Nad nad(n);
  EXPECT_DOUBLE_EQ(run(nad, clean), nad.estimated_image_epochs({400, 100, 4})) << "nad";
  AnpOptions an;
  an.clean_fraction = 0.25;
  an.iterations = 6;
  an.batch_size = 25;
  Anp anp(an);
  EXPECT_DOUBLE_EQ(run(anp, clean), anp.estimated_image_epochs({400, 100, 4})) << "anp";
  IbauOptions i;
  i.clean_fraction = 0.25;
  i.rounds = 2;
  i.batch_size = 50;
  Ibau ibau(i);
  EXPECT_DOUBLE_EQ(run(ibau, clean), ibau.estimated_image_epochs({400, 100, 4})) << "ibau";
  NeuralCleanseOptions c;
  c.clean_fraction = 0.25;
  c.epochs = 2;
  c.unlearn_epochs = 1;
  c.anomaly_threshold = 0.01;  // something is flagged, so the unlearning runs
  NeuralCleanse nc(c);
  EXPECT_DOUBLE_EQ(run(nc, clean), nc.estimated_image_epochs({400, 100, 4})) << "nc";
  McrOptions r;
  r.clean_fraction = 0.25;
  r.endpoint_epochs = 1;
  r.curve_epochs = 2;
  Mcr mcr(r);
  EXPECT_DOUBLE_EQ(run(mcr, clean), mcr.estimated_image_epochs({400, 100, 4})) << "mcr";
  FstOptions s;
  s.clean_fraction = 0.25;
  s.epochs = 2;
  Fst fst(s);
  EXPECT_DOUBLE_EQ(run(fst, clean), fst.estimated_image_epochs({400, 100, 4})) << "fst";
  // The estimate counts the clean set it is given, whatever clean_fraction says: purify hands a
  // defense all of --clean (a 60,000-image --clean once showed I-BAU "done 100%" from its second
  // round of five, the estimate having counted 5% of --data). FT-SAM and SAU keep their 5% here.
  FtSamOptions fs;
  fs.epochs = 2;
  fs.batch_size = 32;  // 100 rows: a short last batch
  FtSam ft_sam(fs);
  EXPECT_DOUBLE_EQ(run(ft_sam, clean), ft_sam.estimated_image_epochs({400, 100, 4})) << "ft-sam";
  SauOptions sa;
  sa.rounds = 2;
  sa.batch_size = 32;
  Sau sau(sa);
  EXPECT_DOUBLE_EQ(run(sau, clean), sau.estimated_image_epochs({400, 100, 4})) << "sau";
}

// The loop's mechanics on a small synthetic set. Whether it erases a backdoor is for
// Fashion-MNIST: on synthetic blobs PGD at 6/255 flips no prediction.
TEST(Pbe, RunsEachStepOnTheGrowingSetAndRecordsIt) {
  SyntheticOptions so;
  so.size = 12;
  so.train_size = 400;
  auto data = make_synthetic(so);
  SingleProcessGroup group;
  ModelOptions m;
  m.image_size = 12;
  m.num_classes = so.num_classes;
  m.width = 8;
  torch::manual_seed(0);
  Classifier model = make_model(m);
  PbeOptions o;
  o.steps = 3;
  o.epochs_per_step = 2;
  o.fractions = {0.2, 0.5};
  o.adversarial_batches = 1;
  o.pgd.steps = 1;
  std::vector<int64_t> judged;
  SelectionJudge judge = [&](const at::Tensor& rows) {
    judged.push_back(rows.numel());
    SelectionQuality q;
    q.size = rows.numel();
    q.poisoned = rows.lt(10).sum().item<int64_t>();  // pretend rows 0..9 are poisoned
    return q;
  };
  int evaluations = 0;
  EvalFn evaluate = [&](ClassifierImpl&) { return EvalPoint{0.5 + 0.01 * evaluations++, 0.1}; };
  DefenseContext ctx{data.train, Dataset{}, {}, group, 5, evaluate, {}, judge};
  DefenseResult r = Pbe(o).purify(*model, ctx);
  // 5% of 400 rows, then the top 20% and 50% by score.
  EXPECT_EQ(judged, (std::vector<int64_t>{20, 80, 200}));
  ASSERT_EQ(r.steps.size(), 8u);
  EXPECT_EQ(r.steps[0].first, "step");
  EXPECT_EQ(r.steps[0].second, (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(r.steps[1].second, (std::vector<double>{20, 80, 200}));
  // Each step's ACC is the evaluation after its last epoch (evaluations 1, 3, 5).
  EXPECT_EQ(r.steps[5].first, "acc");
  EXPECT_NEAR(r.steps[5].second[2], 0.55, 1e-12);
  EXPECT_EQ(evaluations, 6);
  ASSERT_EQ(r.curve.size(), 6u);
  EXPECT_EQ(r.curve.back().epoch, 5);
  EXPECT_EQ(r.selected.numel(), 200);
  EXPECT_TRUE(torch::equal(r.selected, std::get<0>(r.selected.sort())));
  // The "poisoned" column is the judge's count for the step's set.
  EXPECT_EQ(r.steps[2].first, "poisoned");
  EXPECT_EQ(r.steps[2].second[2], r.selected.lt(10).sum().item<double>());
  // Each row's score after steps 0 and 1 (not after the last); the final set is the top half
  // by the scores after step 1.
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].first, "score_step0");
  EXPECT_EQ(r.rows[1].first, "score_step1");
  for (const auto& [name, scores] : r.rows) {
    ASSERT_EQ(scores.size(), 400u) << name;
    for (double s : scores) ASSERT_TRUE(s >= 0 && s <= 1 + 1e-6) << name << " " << s;
  }
  EXPECT_TRUE(torch::equal(r.selected, top_fraction(torch::tensor(r.rows[1].second), 0.5)));
}

}  // namespace
