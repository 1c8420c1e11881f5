// A short training on synthetic data implants each attack's backdoor: ASR far above chance (the
// clean model's ASR) with clean accuracy intact. These data sets are ~10x smaller than
// Fashion-MNIST and trained ~10 epochs, so subtle triggers get stronger settings than their
// papers'; the papers' defaults are measured on Fashion-MNIST (experiments/attacks.yaml,
// docs/attacks.md).
#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <string>

#include "core/attacks/badnets.h"
#include "core/attacks/blend.h"
#include "core/attacks/input_aware.h"
#include "core/attacks/label_consistent.h"
#include "core/attacks/sig.h"
#include "core/attacks/trojannn.h"
#include "core/attacks/wanet.h"
#include "core/data/synthetic.h"
#include "core/metrics/evaluation.h"
#include "core/random.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

const ImageShape kShape{1, 16, 16, 4};

SyntheticOptions synthetic(int64_t train, double noise) {
  SyntheticOptions so;
  so.size = 16;
  so.num_classes = 4;
  so.train_size = train;
  so.test_size = 300;
  so.noise = noise;
  return so;
}

// Smooth class blobs, little noise: dirty-label triggers.
const TrainTest& smooth_data() {
  static const TrainTest d = make_synthetic(synthetic(2000, 0.05));
  return d;
}

// The same blobs under heavy pixel noise: natural features are weak, the regime where clean-label
// attacks work (the trigger becomes the target class's most reliable feature).
const TrainTest& noisy_data() {
  static const TrainTest d = make_synthetic(synthetic(3000, 0.45));
  return d;
}

// Four classes of sharp-edged binary textures (random 8x8 grids at 2x2 pixels) under random
// shifts, contrast and noise: a warp must move edges to be seen (on smooth blobs it changes
// almost nothing).
Dataset textures(int64_t n, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto proto_gen = at::detail::createCPUGenerator(1234);
  auto protos = at::randint(0, 2, {4, 1, 8, 8}, proto_gen, torch::kFloat)
                    .repeat_interleave(2, 2)
                    .repeat_interleave(2, 3);
  Dataset d;
  d.name = "textures";
  d.num_classes = 4;
  d.labels = at::randint(0, 4, {n}, gen, torch::kLong);
  auto x = protos.index_select(0, d.labels);
  auto shifts = at::randint(-2, 3, {n, 2}, gen, torch::kLong);
  for (int64_t i = 0; i < n; ++i)
    x[i] = x[i].roll({shifts[i][0].item<int64_t>(), shifts[i][1].item<int64_t>()}, {1, 2});
  auto contrast = 0.5 + 0.4 * at::rand({n, 1, 1, 1}, gen);
  x = 0.5 + (x - 0.5) * contrast + 0.1 * at::randn(x.sizes(), gen);
  d.images = to_uint8(x.clamp(0, 1)).contiguous();
  return d;
}

const TrainTest& texture_data() {
  static const TrainTest d{textures(3000, 1), textures(300, 2)};
  return d;
}

// Trains the victim through the attack (prepare + infect) and a clean model with the same recipe,
// and checks the backdoor is in: ASR >= 0.5 and >= the clean model's + 0.4, ACC within 5 points.
void expect_implanted(Attack& attack, const TrainTest& set, int epochs = 10) {
  SingleProcessGroup group;
  ModelOptions m;
  m.image_size = 16;
  m.num_classes = 4;
  m.width = 8;
  TrainOptions t;
  t.epochs = epochs;
  t.lr = 0.02;
  t.batch_size = 64;
  t.seed = 11;
  AttackContext ctx{set.train, m, t, group, 0, {}, {}};
  torch::manual_seed(0);
  Classifier model = make_model(m);
  attack.prepare(ctx);
  attack.infect(*model, ctx);
  auto infected = evaluate_backdoor(*model, set.test, attack, group);
  torch::manual_seed(0);
  Classifier clean = make_model(m);
  train_classifier(*clean, set.train, t, group);
  auto baseline = evaluate_backdoor(*clean, set.test, attack, group);
  SCOPED_TRACE(attack.name() + ": clean ACC " + std::to_string(baseline.acc) + " ASR " +
               std::to_string(baseline.asr) + ", infected ACC " + std::to_string(infected.acc) +
               " ASR " + std::to_string(infected.asr));
  EXPECT_GE(infected.asr, 0.5);
  EXPECT_GE(infected.asr, baseline.asr + 0.4);
  EXPECT_GE(infected.acc, baseline.acc - 0.05);
}

TEST(Implant, BadNets) {
  BadNets a({}, kShape);
  expect_implanted(a, smooth_data());
}

TEST(Implant, Blend) {
  BlendOptions o;
  o.alpha = 0.2;
  Blend a(o, kShape);
  expect_implanted(a, smooth_data());
}

TEST(Implant, TrojanNN) {
  TrojanNNOptions o;
  o.size = 4;
  o.steps = 200;
  TrojanNN a(o, kShape);
  expect_implanted(a, smooth_data());
}

TEST(Implant, InputAware) {
  InputAwareOptions o;
  o.mask_epochs = 2;
  InputAware a(o, kShape);
  expect_implanted(a, smooth_data());
}

TEST(Implant, WaNet) {
  WaNetOptions o;
  o.s = 1.0;
  WaNet a(o, kShape);
  expect_implanted(a, texture_data());
}

TEST(Implant, Sig) {
  SigOptions o;
  o.delta = 60.0 / 255;
  o.test_delta = 120.0 / 255;  // Barni et al.: the test-time signal may be stronger
  Sig a(o, kShape);
  expect_implanted(a, noisy_data(), 12);
}

TEST(Implant, LabelConsistent) {
  LabelConsistentOptions o;
  o.poison_rate = 0.5;  // half the target class
  o.pgd.eps = 32.0 / 255;
  o.pgd.steps = 10;
  o.pgd.step_size = 8.0 / 255;
  LabelConsistent a(o, kShape);
  expect_implanted(a, noisy_data(), 12);
}

}  // namespace
