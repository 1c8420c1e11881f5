// Every default that a header documents as coming from a paper or a reference implementation,
// pinned here with its source in the test's name, so that a changed default is a decision, not a
// slip. The sources' settings are listed in ../shared/docs/pbe-method.md (PBE, AFT and the paper's
// five attacks) and in each header's comment (the baselines).
#include <gtest/gtest.h>

#include <vector>

#include "core/adversarial/pgd.h"
#include "core/attacks/badnets.h"
#include "core/attacks/blend.h"
#include "core/attacks/input_aware.h"
#include "core/attacks/label_consistent.h"
#include "core/attacks/sig.h"
#include "core/attacks/trojannn.h"
#include "core/attacks/wanet.h"
#include "core/defenses/aft.h"
#include "core/defenses/anp.h"
#include "core/defenses/fine_pruning.h"
#include "core/defenses/fine_tuning.h"
#include "core/defenses/fst.h"
#include "core/defenses/ft_sam.h"
#include "core/defenses/sau.h"
#include "core/defenses/ibau.h"
#include "core/defenses/mcr.h"
#include "core/defenses/nad.h"
#include "core/defenses/neural_cleanse.h"
#include "core/defenses/pbe.h"

using namespace pbe;

namespace {

void expect_pbe_release_pgd(const PgdOptions& o) {  // pbe-method.md: eps 6/255, step eps/5, 7 steps
  EXPECT_DOUBLE_EQ(o.eps, 6.0 / 255);
  EXPECT_DOUBLE_EQ(o.step_size, o.eps / 5);
  EXPECT_EQ(o.steps, 7);
  EXPECT_EQ(o.norm, PgdNorm::kLinf);
  EXPECT_FALSE(o.random_start);
  EXPECT_FALSE(o.clamp);  // The release does not clamp x + d to [0, 1].
  EXPECT_FALSE(o.targeted);
}

void expect_pbe_release_sgd(const SgdRecipe& s) {  // pbe-method.md: lr 0.001, momentum 0.9, wd 5e-4, batch 128, constant
  EXPECT_DOUBLE_EQ(s.lr, 0.001);
  EXPECT_DOUBLE_EQ(s.momentum, 0.9);
  EXPECT_DOUBLE_EQ(s.weight_decay, 5e-4);
  EXPECT_EQ(s.batch_size, 128);
  EXPECT_EQ(s.schedule, LrSchedule::kConstant);
}

void expect_backdoorbench_ft_sgd(const SgdRecipe& s) {  // BackdoorBench's ft: lr 0.01, cosine
  EXPECT_DOUBLE_EQ(s.lr, 0.01);
  EXPECT_DOUBLE_EQ(s.momentum, 0.9);
  EXPECT_DOUBLE_EQ(s.weight_decay, 5e-4);
  EXPECT_EQ(s.batch_size, 128);
  EXPECT_EQ(s.schedule, LrSchedule::kCosine);
}

TEST(DocumentedDefaults, PbeIsThePbeRelease) {
  const PbeOptions o;
  EXPECT_DOUBLE_EQ(o.initial_fraction, 0.05);
  EXPECT_EQ(o.steps, 4);
  EXPECT_EQ(o.epochs_per_step, 10);
  EXPECT_EQ(o.adversarial_batches, 31);
  EXPECT_EQ(o.fractions, (std::vector<double>{0.2, 0.5, 0.7}));
  expect_pbe_release_pgd(o.pgd);
  expect_pbe_release_pgd(pbe_pgd_options());
  expect_pbe_release_sgd(o.sgd);
  EXPECT_EQ(o.augmentation.kind, DefenseAugmentation::Kind::kAuto);  // the release's on CIFAR-like data
}

TEST(DocumentedDefaults, AftIsThePbeRelease) {
  const AftOptions o;
  EXPECT_DOUBLE_EQ(o.clean_fraction, 0.05);
  EXPECT_EQ(o.epochs, 20);
  EXPECT_EQ(o.adversarial_epochs, 3);
  expect_pbe_release_pgd(o.pgd);
  expect_pbe_release_sgd(o.sgd);
  EXPECT_EQ(o.augmentation.kind, DefenseAugmentation::Kind::kAuto);
}

TEST(DocumentedDefaults, FineTuningIsBackdoorBenchs) {
  const FineTuningOptions o;
  EXPECT_DOUBLE_EQ(o.clean_fraction, 0.05);
  EXPECT_EQ(o.epochs, 10);
  expect_backdoorbench_ft_sgd(o.sgd);
}

TEST(DocumentedDefaults, FstIsTheOfficialCodes) {  // fine_tune/ft.py; 5%: the matrix's clean budget
  const FstOptions o;
  EXPECT_DOUBLE_EQ(o.clean_fraction, 0.05);
  EXPECT_EQ(o.epochs, 10);
  EXPECT_DOUBLE_EQ(o.alpha, 0.2);
  EXPECT_EQ(o.sgd.batch_size, 128);
  EXPECT_DOUBLE_EQ(o.sgd.lr, 0.01);
  EXPECT_DOUBLE_EQ(o.sgd.momentum, 0.9);
  EXPECT_DOUBLE_EQ(o.sgd.weight_decay, 0.0);
  EXPECT_EQ(o.sgd.schedule, LrSchedule::kCosine);
}

TEST(DocumentedDefaults, FtSamIsBackdoorBenchs) {  // defense/ft-sam.py, config/defense/ft-sam/cifar10.yaml
  const FtSamOptions o;
  EXPECT_DOUBLE_EQ(o.clean_fraction, 0.05);
  EXPECT_EQ(o.epochs, 100);
  EXPECT_DOUBLE_EQ(o.rho, 2.0);
  EXPECT_TRUE(o.adaptive);  // --adaptive is store_false
  EXPECT_DOUBLE_EQ(o.label_smoothing, 0.1);
  EXPECT_EQ(o.lr_period_steps, 100);  // CosineAnnealingLR(T_max=100) stepped per batch
  EXPECT_EQ(o.batch_size, 256);
  EXPECT_DOUBLE_EQ(o.lr, 0.01);
  EXPECT_DOUBLE_EQ(o.momentum, 0.9);
  EXPECT_DOUBLE_EQ(o.weight_decay, 5e-4);
}

TEST(DocumentedDefaults, SauIsTheAuthorsBackdoorBenchCode) {  // defense/sau.py, config/defense/sau/config.yaml
  const SauOptions o;
  EXPECT_DOUBLE_EQ(o.clean_fraction, 0.05);
  EXPECT_EQ(o.rounds, 100);
  EXPECT_DOUBLE_EQ(o.bound, 0.2);
  EXPECT_DOUBLE_EQ(o.adv_step, 0.2);
  EXPECT_EQ(o.adv_steps, 5);
  EXPECT_DOUBLE_EQ(o.adv_weight, 0.01);
  EXPECT_DOUBLE_EQ(o.shared_weight, 1.0);
  EXPECT_DOUBLE_EQ(o.clean_weight, 1.0);
  EXPECT_DOUBLE_EQ(o.at_weight, 0.0);
  EXPECT_DOUBLE_EQ(o.shared_risk_weight, 1.0);
  EXPECT_DOUBLE_EQ(o.lr, 1e-4);
  EXPECT_EQ(o.batch_size, 256);
}

TEST(DocumentedDefaults, FinePruningIsBackdoorBenchs) {
  const FinePruningOptions o;
  EXPECT_DOUBLE_EQ(o.clean_fraction, 0.05);
  EXPECT_DOUBLE_EQ(o.max_acc_drop, 0.1);  // its acc_ratio
  EXPECT_DOUBLE_EQ(o.max_prune_ratio, 0.95);
  EXPECT_EQ(o.epochs, 10);
  expect_backdoorbench_ft_sgd(o.sgd);
}

TEST(DocumentedDefaults, NadIsBackdoorBenchs) {
  const NadOptions o;
  EXPECT_DOUBLE_EQ(o.clean_fraction, 0.05);
  EXPECT_EQ(o.teacher_epochs, 10);
  EXPECT_EQ(o.epochs, 20);
  EXPECT_EQ(o.betas, (std::vector<double>{500, 1000, 1000}));
  EXPECT_DOUBLE_EQ(o.power, 2.0);
  expect_backdoorbench_ft_sgd(o.sgd);
}

TEST(DocumentedDefaults, AnpIsTheAnpPaperAndRelease) {
  const AnpOptions o;
  EXPECT_DOUBLE_EQ(o.eps, 0.4);
  EXPECT_EQ(o.perturbation_steps, 1);
  EXPECT_DOUBLE_EQ(o.alpha, 0.2);
  EXPECT_DOUBLE_EQ(o.mask_lr, 0.2);
  EXPECT_EQ(o.iterations, 2000);
  EXPECT_EQ(o.batch_size, 128);
  EXPECT_EQ(o.prune_by, "threshold");
  EXPECT_DOUBLE_EQ(o.threshold, 0.2);
}

TEST(DocumentedDefaults, IbauIsTheIbauRelease) {  // YiZeng623/I-BAU
  const IbauOptions o;
  EXPECT_EQ(o.rounds, 5);
  EXPECT_EQ(o.fixed_point_iterations, 5);
  EXPECT_DOUBLE_EQ(o.inner_lr, 0.1);
  EXPECT_DOUBLE_EQ(o.perturbation_lr, 10);
  EXPECT_DOUBLE_EQ(o.regularization, 1e-3);
  EXPECT_DOUBLE_EQ(o.radius, 0);  // no projection
  EXPECT_DOUBLE_EQ(o.patched_fraction, 0.01);
  EXPECT_DOUBLE_EQ(o.lr, 1e-3);
  EXPECT_EQ(o.batch_size, 100);
}

TEST(DocumentedDefaults, McrIsTheMcrReleasesCurveAndBackdoorBenchsPoint) {
  const McrOptions o;
  EXPECT_EQ(o.curve_epochs, 100);
  EXPECT_DOUBLE_EQ(o.t, 0.3);
  EXPECT_EQ(o.endpoint_epochs, 10);  // FT's
  expect_backdoorbench_ft_sgd(o.sgd);
}

TEST(DocumentedDefaults, NeuralCleanseIsTheReferenceAndBackdoorBenchs) {  // bolunwang/backdoor
  const NeuralCleanseOptions o;
  EXPECT_EQ(o.epochs, 80);  // BackdoorBench
  EXPECT_EQ(o.batch_size, 32);
  EXPECT_DOUBLE_EQ(o.lr, 0.1);
  EXPECT_DOUBLE_EQ(o.init_cost, 1e-3);
  EXPECT_DOUBLE_EQ(o.attack_success_threshold, 0.99);
  EXPECT_EQ(o.patience, 5);
  EXPECT_DOUBLE_EQ(o.cost_multiplier, 2.0);
  EXPECT_EQ(o.early_stop_patience, 25);
  EXPECT_DOUBLE_EQ(o.anomaly_threshold, 2.0);
  EXPECT_DOUBLE_EQ(o.unlearn_fraction, 0.2);  // BackdoorBench
  EXPECT_EQ(o.unlearn_epochs, 10);
  expect_backdoorbench_ft_sgd(o.sgd);
}

// pbe-method.md, "The five attacks of the paper": poison rate 10%, target label 0.
TEST(DocumentedDefaults, AttacksPoisonAtThePbePapersRateAndTarget) {
  const PoisonOptions o;
  EXPECT_DOUBLE_EQ(o.poison_rate, 0.1);
  EXPECT_EQ(o.target, 0);
}

TEST(DocumentedDefaults, BadNetsIsThePbePapers) {  // 3x3 black/white checkerboard, bottom-right
  const BadNetsOptions o;
  EXPECT_EQ(o.size, 3);
  EXPECT_EQ(o.pattern, "checkerboard");
  EXPECT_EQ(o.placement.position, "bottom-right");
  EXPECT_EQ(o.placement.margin, 0);
  EXPECT_DOUBLE_EQ(o.amplitude, 1.0);  // stamped, as Gu et al.
}

TEST(DocumentedDefaults, BlendIsThePbePapers) {  // alpha 0.1
  EXPECT_DOUBLE_EQ(BlendOptions{}.alpha, 0.1);
}

TEST(DocumentedDefaults, SigIsThePbePapers) {  // delta 20/255, f = 6
  const SigOptions o;
  EXPECT_DOUBLE_EQ(o.delta, 20.0 / 255);
  EXPECT_DOUBLE_EQ(o.test_delta, 20.0 / 255);
  EXPECT_DOUBLE_EQ(o.frequency, 6);
}

TEST(DocumentedDefaults, WaNetIsThePbePapers) {  // k 4, s 0.5, grid rescale 1, cross ratio 2
  const WaNetOptions o;
  EXPECT_EQ(o.k, 4);
  EXPECT_DOUBLE_EQ(o.s, 0.5);
  EXPECT_DOUBLE_EQ(o.grid_rescale, 1.0);
  EXPECT_DOUBLE_EQ(o.cross_ratio, 2.0);
}

TEST(DocumentedDefaults, InputAwareIsTheAuthorsMnistSetting) {  // Nguyen & Tran 2020's release
  const InputAwareOptions o;
  EXPECT_DOUBLE_EQ(o.cross_rate, 0.1);
  EXPECT_DOUBLE_EQ(o.lambda_div, 1.0);
  EXPECT_DOUBLE_EQ(o.lambda_norm, 100.0);
  EXPECT_DOUBLE_EQ(o.mask_density, 0.032);
  EXPECT_EQ(o.mask_epochs, 25);
  EXPECT_DOUBLE_EQ(o.generator_lr, 0.01);
  EXPECT_EQ(o.generator_width, 16);
}

TEST(DocumentedDefaults, LabelConsistentIsBackdoorBoxs) {  // L_inf eps 8/255, step 1.5/255, 100 steps
  const LabelConsistentOptions o;
  EXPECT_DOUBLE_EQ(o.poison_rate, 1.0);  // Turner et al.'s release
  EXPECT_EQ(o.pgd.norm, PgdNorm::kLinf);
  EXPECT_DOUBLE_EQ(o.pgd.eps, 8.0 / 255);
  EXPECT_DOUBLE_EQ(o.pgd.step_size, 1.5 / 255);
  EXPECT_EQ(o.pgd.steps, 100);
  EXPECT_FALSE(o.pgd.random_start);
  EXPECT_EQ(o.size, 3);
  EXPECT_DOUBLE_EQ(o.amplitude, 1.0);
}

TEST(DocumentedDefaults, TrojanNNIsTrojanZoosAndBackdoorBenchs) {
  const TrojanNNOptions o;
  EXPECT_EQ(o.size, 7);
  EXPECT_EQ(o.neurons, 2);
  EXPECT_DOUBLE_EQ(o.target_value, 100.0);
  EXPECT_EQ(o.steps, 1000);
  EXPECT_DOUBLE_EQ(o.lr, 0.1);
}

}  // namespace
