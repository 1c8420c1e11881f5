// Each baseline defense lowers ASR on a tiny synthetic backdoored model, at its default settings
// (ANP: a documented smaller budget), by a stated margin; the mechanism tests sit in each
// defense's own file. Three victims, each a small CNN on 10 classes of smooth 16x16 blobs under
// pixel noise, 5% clean data for the defenses (100 held-out images), the rest of the test set for
// ACC and ASR. Measured 2026-11-30 (one thread; the values in the comments):
//
//   victim (ACC / ASR)                   FT     FP     NAD    ANP    I-BAU  MCR
//   badnets, noise 0.3   (1.00 / 0.99)   0.99   0.05   0.99   0.00   0.62   0.99
//   blend 0.3, noise 0.45 (0.99 / 0.93)  0.91   0.84   0.10   (1)    0.78   0.89
//   blend 0.2, noise 0.45 (0.97 / 0.52)  0.23   0.10   0.10   (1)    0.13   0.26
//   (1): ANP's fixed threshold prunes these blend models to chance ACC (0.09).
// The newer fine-tuning defenses, same victims (ASR after; FST and FT-SAM at some ACC, below):
//   badnets 0.99 -> FST 0.00, FT-SAM 0.01, SAU 0.66; strong blend 0.93 -> 0.02, 0.04, 0.84;
//   weak blend 0.52 -> FT-SAM 0.00, SAU 0.36.
//
// So on this scale: pruning (FP, ANP) removes the patch backdoor that fine-tuning leaves whole;
// NAD's attention distillation removes a blend backdoor that fine-tuning alone (FT, MCR's
// endpoint) leaves; a half-implanted backdoor falls to any fine-tuning; I-BAU always lowers ASR
// but at its 5 rounds erases only the weak one. docs/results.md has the same defenses on
// Fashion-MNIST.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/attacks/badnets.h"
#include "core/attacks/blend.h"
#include "core/data/synthetic.h"
#include "core/defenses/anp.h"
#include "core/defenses/fine_pruning.h"
#include "core/defenses/fine_tuning.h"
#include "core/defenses/ibau.h"
#include "core/defenses/mcr.h"
#include "core/defenses/fst.h"
#include "core/defenses/ft_sam.h"
#include "core/defenses/sau.h"
#include "core/defenses/nad.h"
#include "core/metrics/evaluation.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

struct Victim {
  TrainTest set;
  ModelOptions model_options;
  std::unique_ptr<Attack> attack;
  Classifier model;
  Dataset clean;     // The defenses' clean extra set: 100 test images (5% of the training set).
  Dataset held_out;  // ACC and ASR: the other 500.
  BackdoorMetrics before;
};

enum class Kind { kBadNets, kStrongBlend, kWeakBlend };

Victim train_victim(Kind kind) {
  Victim r;
  SyntheticOptions so;
  so.size = 16;
  so.num_classes = 10;
  so.train_size = 2000;
  so.test_size = 600;
  so.noise = kind == Kind::kBadNets ? 0.3 : 0.45;
  r.set = make_synthetic(so);
  r.model_options.image_size = 16;
  r.model_options.num_classes = 10;
  r.model_options.width = 8;
  if (kind == Kind::kBadNets) {
    r.attack = std::make_unique<BadNets>(BadNetsOptions{}, r.set.train.shape());
  } else {
    BlendOptions bo;
    bo.alpha = kind == Kind::kStrongBlend ? 0.3 : 0.2;
    r.attack = std::make_unique<Blend>(bo, r.set.train.shape());
  }
  TrainOptions t;
  t.epochs = kind == Kind::kBadNets ? 10 : 20;
  t.lr = 0.02;
  t.batch_size = 64;
  t.seed = 11;
  SingleProcessGroup group;
  AttackContext ctx{r.set.train, r.model_options, t, group, 0, {}, {}};
  torch::manual_seed(0);
  r.model = make_model(r.model_options);
  r.attack->prepare(ctx);
  r.attack->infect(*r.model, ctx);
  r.clean = r.set.test.subset(torch::arange(100));
  r.held_out = r.set.test.subset(torch::arange(100, 600));
  r.before = evaluate_backdoor(*r.model, r.held_out, *r.attack, group);
  return r;
}

const Victim& victim(Kind kind) {
  static const Victim badnets = train_victim(Kind::kBadNets);
  static const Victim strong_blend = train_victim(Kind::kStrongBlend);
  static const Victim weak_blend = train_victim(Kind::kWeakBlend);
  const Victim& v = kind == Kind::kBadNets ? badnets : kind == Kind::kStrongBlend ? strong_blend : weak_blend;
  return v;
}

// A copy of the victim purified by `defense`: its ACC and ASR on the held-out images.
BackdoorMetrics purified(const Victim& v, const Defense& defense) {
  SingleProcessGroup group;
  Classifier model = clone_model(*v.model, v.model_options);
  DefenseContext ctx{v.set.train, v.clean, {}, group, 5, {}, {}, {}};
  defense.purify(*model, ctx);
  return evaluate_backdoor(*model, v.held_out, *v.attack, group);
}

AnpOptions anp_small_budget() {
  AnpOptions o;
  o.iterations = 200;  // The default 2,000 take 145 s here; 200 already reach the pruning (14 s).
  return o;
}

TEST(DefenseEfficacy, TheVictimsCarryTheirBackdoors) {
  EXPECT_GE(victim(Kind::kBadNets).before.asr, 0.95);
  EXPECT_GE(victim(Kind::kStrongBlend).before.asr, 0.85);
  EXPECT_GE(victim(Kind::kWeakBlend).before.asr, 0.4);
  for (Kind k : {Kind::kBadNets, Kind::kStrongBlend, Kind::kWeakBlend}) EXPECT_GE(victim(k).before.acc, 0.95);
}

TEST(DefenseEfficacy, FineTuningLowersTheWeakBackdoorOnly) {
  const auto& weak = victim(Kind::kWeakBlend);
  const auto after = purified(weak, FineTuning(FineTuningOptions{}));
  EXPECT_LE(after.asr, weak.before.asr - 0.2) << "before " << weak.before.asr;  // 0.52 -> 0.23
  EXPECT_GE(after.acc, weak.before.acc - 0.03);
  const auto& strong = victim(Kind::kStrongBlend);
  EXPECT_GE(purified(strong, FineTuning(FineTuningOptions{})).asr, 0.8) << "FT left the strong one (0.91)";
}

TEST(DefenseEfficacy, FinePruningErasesThePatchBackdoor) {
  const auto& v = victim(Kind::kBadNets);
  const auto after = purified(v, FinePruning(FinePruningOptions{}));
  EXPECT_LE(after.asr, 0.15) << "before " << v.before.asr;  // 0.99 -> 0.05
  EXPECT_GE(after.acc, v.before.acc - 0.05);
}

TEST(DefenseEfficacy, NadErasesTheBlendBackdoorThatFineTuningLeaves) {
  const auto& v = victim(Kind::kStrongBlend);
  const auto after = purified(v, Nad(NadOptions{}));
  EXPECT_LE(after.asr, 0.3) << "before " << v.before.asr << "; FT leaves 0.91";  // 0.93 -> 0.10
  EXPECT_GE(after.acc, v.before.acc - 0.03);
}

TEST(DefenseEfficacy, AnpPrunesThePatchBackdoorsNeurons) {
  const auto& v = victim(Kind::kBadNets);
  const auto after = purified(v, Anp(anp_small_budget()));
  EXPECT_LE(after.asr, 0.1) << "before " << v.before.asr;  // 0.99 -> 0.00
  EXPECT_GE(after.acc, v.before.acc - 0.05);
}

TEST(DefenseEfficacy, IbauLowersBothBackdoors) {
  const auto& patch = victim(Kind::kBadNets);
  const auto after_patch = purified(patch, Ibau(IbauOptions{}));
  EXPECT_LE(after_patch.asr, patch.before.asr - 0.25) << "before " << patch.before.asr;  // 0.99 -> 0.62
  EXPECT_GE(after_patch.acc, patch.before.acc - 0.03);
  const auto& weak = victim(Kind::kWeakBlend);
  const auto after_weak = purified(weak, Ibau(IbauOptions{}));
  EXPECT_LE(after_weak.asr, 0.25) << "before " << weak.before.asr;  // 0.52 -> 0.13
  EXPECT_GE(after_weak.acc, weak.before.acc - 0.03);
}

TEST(DefenseEfficacy, McrLowersTheWeakBackdoor) {
  const auto& v = victim(Kind::kWeakBlend);
  const auto after = purified(v, Mcr(McrOptions{}));
  EXPECT_LE(after.asr, v.before.asr - 0.2) << "before " << v.before.asr;  // 0.52 -> 0.26
  EXPECT_GE(after.acc, v.before.acc - 0.03);
}

// FST erases the patch and the strong blend (which FT leaves at 0.91): 0.99 -> 0.00 and
// 0.93 -> 0.02 with its defaults. Its fresh head needs steps: the defaults' 10 (100 rows, batch
// 128) cost 13 and 18 points of ACC; 40 (batch 32; the paper's CIFAR-10 run takes ~80) cost 2 and 6.
TEST(DefenseEfficacy, FstErasesThePatchAndTheStrongBlendBackdoors) {
  for (Kind k : {Kind::kBadNets, Kind::kStrongBlend}) {
    const auto& v = victim(k);
    EXPECT_LE(purified(v, Fst(FstOptions{})).asr, 0.1) << static_cast<int>(k) << " before " << v.before.asr;
    FstOptions more_steps;
    more_steps.sgd.batch_size = 32;
    const auto after = purified(v, Fst(more_steps));
    EXPECT_LE(after.asr, 0.15) << static_cast<int>(k) << " before " << v.before.asr;
    EXPECT_GE(after.acc, v.before.acc - 0.08) << static_cast<int>(k);
  }
}

// FT-SAM at its defaults (ASAM rho 2: 100 steps on the 100 rows) erases all three: 0.99 -> 0.01,
// 0.93 -> 0.04, 0.52 -> 0.00, at a cost in ACC on the blend victims (0.00, 0.07, 0.11).
TEST(DefenseEfficacy, FtSamErasesEveryBackdoor) {
  for (Kind k : {Kind::kBadNets, Kind::kStrongBlend, Kind::kWeakBlend}) {
    const auto& v = victim(k);
    const auto after = purified(v, FtSam(FtSamOptions{}));
    EXPECT_LE(after.asr, 0.1) << static_cast<int>(k) << " before " << v.before.asr;
    EXPECT_GE(after.acc, v.before.acc - (k == Kind::kBadNets ? 0.03 : 0.15)) << static_cast<int>(k);
  }
}

// SAU at its defaults (100 Adam steps of 1e-4 here; its CIFAR-10 runs take 1,000) lowers the patch
// backdoor, 0.99 -> 0.66, for 7 points of ACC; the blends move less (0.93 -> 0.84, 0.52 -> 0.36).
TEST(DefenseEfficacy, SauLowersThePatchBackdoor) {
  const auto& v = victim(Kind::kBadNets);
  const auto after = purified(v, Sau(SauOptions{}));
  EXPECT_LE(after.asr, v.before.asr - 0.2) << "before " << v.before.asr;
  EXPECT_GE(after.acc, v.before.acc - 0.1);
}

}  // namespace
