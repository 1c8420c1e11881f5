// Each trigger's defining property, determinism for a seed, and bad options.
#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <map>

#include "core/attacks/blend.h"
#include "core/attacks/input_aware.h"
#include "core/attacks/label_consistent.h"
#include "core/attacks/sig.h"
#include "core/attacks/trojannn.h"
#include "core/attacks/wanet.h"
#include "core/data/netpbm_reader.h"
#include "core/data/synthetic.h"
#include "core/errors.h"
#include "core/models/classifier.h"
#include "core/random.h"
#include "distributed/single_process_group.h"
#include "tests/temp_dir_test.h"

using namespace pbe;

namespace {

const ImageShape kShape{1, 16, 16, 4};

Dataset toy_set(int64_t n, const ImageShape& shape = kShape) {
  Dataset d;
  d.name = "toy";
  d.num_classes = shape.num_classes;
  d.images = torch::randint(0, 256, {n, shape.channels, shape.height, shape.width},
                            at::detail::createCPUGenerator(7), torch::kByte);
  d.labels = torch::arange(n, torch::kLong).remainder(shape.num_classes);
  return d;
}

void expect_same(const PoisonedDataset& a, const PoisonedDataset& b) {
  EXPECT_TRUE(torch::equal(a.poison_mask, b.poison_mask));
  EXPECT_TRUE(torch::equal(a.data.images, b.data.images));
  EXPECT_TRUE(torch::equal(a.data.labels, b.data.labels));
}

// --- Blend ---------------------------------------------------------------------------------

TEST(Blend, BlendArithmeticWithTheFixedNoiseTrigger) {
  BlendOptions o;
  o.alpha = 0.25;
  Blend attack(o, kShape);
  const auto& t = attack.trigger();
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{1, 16, 16}));
  EXPECT_GE(t.min().item<float>(), 0.0f);
  EXPECT_LE(t.max().item<float>(), 1.0f);
  EXPECT_GT(t.std().item<float>(), 0.2f);  // noise, not a constant image
  auto x = torch::rand({3, 1, 16, 16});
  EXPECT_TRUE(torch::allclose(attack.apply_trigger(x), 0.75 * x + 0.25 * t));
  // alpha 0 leaves images alone, alpha 1 replaces them.
  o.alpha = 0;
  EXPECT_TRUE(torch::allclose(Blend(o, kShape).apply_trigger(x), x));
  o.alpha = 1;
  EXPECT_TRUE(torch::allclose(Blend(o, kShape).apply_trigger(x), t.expand_as(x)));
}

TEST(Blend, TriggerSeedFixesTheNoise) {
  BlendOptions o;
  EXPECT_TRUE(torch::equal(Blend(o, kShape).trigger(), Blend(o, kShape).trigger()));
  o.trigger_seed = 1;
  EXPECT_FALSE(torch::equal(Blend(o, kShape).trigger(), Blend({}, kShape).trigger()));
}

TEST(Blend, DirtyLabelPoisoningIsSeeded) {
  Blend attack({}, kShape);
  auto clean = toy_set(200);
  auto a = attack.poison(clean, 3), b = attack.poison(clean, 3), c = attack.poison(clean, 4);
  expect_same(a, b);
  EXPECT_FALSE(torch::equal(a.poison_mask, c.poison_mask));
  EXPECT_EQ(a.poison_mask.sum().item<int64_t>(), 20);
  auto rows = a.poison_mask.nonzero().squeeze(1);
  EXPECT_TRUE(a.data.labels.index_select(0, rows).eq(0).all().item<bool>());
  EXPECT_TRUE(clean.labels.index_select(0, rows).ne(0).all().item<bool>());
}

class BlendImage : public pbe::testing::TempDirTest {};

TEST_F(BlendImage, ReadsAPpmTriggerAndFitsItToTheImages) {
  const std::string path = (dir_ / "t.ppm").string();
  {
    std::ofstream f(path, std::ios::binary);
    f << "P6\n# a comment\n2 2\n255\n";
    const unsigned char px[12] = {255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0};
    f.write(reinterpret_cast<const char*>(px), 12);
  }
  auto rgb = read_netpbm(path);
  ASSERT_EQ(rgb.sizes(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_FLOAT_EQ(rgb[0][1][0].item<float>(), 1.0f);  // the red pixel
  EXPECT_FLOAT_EQ(rgb[1][1][0].item<float>(), 0.0f);
  BlendOptions o;
  o.image = path;
  Blend attack(o, kShape);  // grey 16x16: resized and converted
  ASSERT_EQ(attack.trigger().sizes(), (std::vector<int64_t>{1, 16, 16}));
  EXPECT_NEAR(attack.trigger()[0][0][0].item<float>(), 1.0f, 1e-5);  // white corner stays white
  // Truncated pixels and a wrong magic name the file.
  {
    std::ofstream f(path, std::ios::binary);
    f << "P6\n2 2\n255\n" << "abc";
  }
  try {
    read_netpbm(path);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": truncated image: expected 12 pixel bytes, got 3");
  }
  {
    std::ofstream f(path, std::ios::binary);
    f << "GIF89a";
  }
  EXPECT_THROW(read_netpbm(path), DataError);
}

// --- SIG -----------------------------------------------------------------------------------

TEST(Sig, SinusoidAmplitudeAndFrequency) {
  SigOptions o;
  o.delta = 20.0 / 255;
  o.test_delta = 10.0 / 255;
  o.frequency = 4;
  Sig attack(o, kShape);
  auto v = attack.signal(o.delta, 1, 16, 16);
  EXPECT_NEAR(v.abs().max().item<float>(), 20.0 / 255, 1e-6);
  // The same in every row; column j holds delta sin(2 pi j f / W).
  EXPECT_TRUE(torch::equal(v[0][0], v[0][15]));
  for (int j = 0; j < 16; ++j)
    EXPECT_NEAR(v[0][3][j].item<float>(), 20.0 / 255 * std::sin(2 * M_PI * j * 4 / 16.0), 1e-6);
  // f periods across the width: the signal repeats every W / f columns.
  EXPECT_TRUE(torch::allclose(v.narrow(2, 0, 4), v.narrow(2, 4, 4), 1e-5, 1e-6));
  // Test time uses test_delta; the result is clamped to [0, 1].
  auto x = torch::full({1, 1, 16, 16}, 0.5);
  EXPECT_TRUE(torch::allclose(attack.apply_trigger(x) - x, attack.signal(o.test_delta, 1, 16, 16), 1e-5, 1e-6));
  EXPECT_GE(attack.apply_trigger(torch::zeros({1, 1, 16, 16})).min().item<float>(), 0.0f);
}

TEST(Sig, CleanLabelPoisonsOnlyTheTargetClassKeepingLabels) {
  SigOptions o;
  o.poison_rate = 0.5;  // of the target class
  o.target = 2;
  Sig attack(o, kShape);
  auto clean = toy_set(200);
  auto p = attack.poison(clean, 1);
  EXPECT_TRUE(torch::equal(p.data.labels, clean.labels));
  auto rows = p.poison_mask.nonzero().squeeze(1);
  EXPECT_EQ(rows.numel(), 25);  // half of the 50 target-class rows
  EXPECT_TRUE(clean.labels.index_select(0, rows).eq(2).all().item<bool>());
  // Poisoned rows differ from the clean ones by the training signal (up to clamping and rounding).
  auto diff = to_float(p.data.images.index_select(0, rows)) - to_float(clean.images.index_select(0, rows));
  EXPECT_LE(diff.abs().max().item<float>(), 20.0 / 255 + 0.5 / 255 + 1e-6);
  EXPECT_GT(diff.abs().max().item<float>(), 15.0 / 255);
  expect_same(p, attack.poison(clean, 1));
  // The untouched rows are exactly the clean ones.
  auto others = p.poison_mask.logical_not();
  EXPECT_TRUE(torch::equal(p.data.images.index({others}), clean.images.index({others})));
}

// --- WaNet ---------------------------------------------------------------------------------

TEST(WaNet, IdentityAtZeroStrengthAndInBounds) {
  WaNetOptions o;
  o.s = 0;
  WaNet identity(o, kShape);
  auto x = torch::rand({2, 1, 16, 16});
  EXPECT_TRUE(torch::allclose(identity.apply_trigger(x), x, 1e-5, 1e-5));
  o.s = 0.5;
  WaNet warp(o, kShape);
  EXPECT_GE(warp.grid().min().item<float>(), -1.0f);
  EXPECT_LE(warp.grid().max().item<float>(), 1.0f);
  // A real but small displacement: under a pixel on average at s = 0.5 (grid units 2 / (H - 1)).
  auto shift = (warp.grid() - identity_grid(16, 16)).abs();
  EXPECT_GT(shift.max().item<float>(), 0.0f);
  EXPECT_LT(shift.mean().item<float>(), 2.0 / 15);
  o.s = 50;  // Huge warps stay in bounds.
  WaNet strong(o, kShape);
  EXPECT_GE(strong.grid().min().item<float>(), -1.0f);
  EXPECT_LE(strong.grid().max().item<float>(), 1.0f);
}

TEST(WaNet, NoiseModeAddsCrossRowsWithTrueLabels) {
  WaNetOptions o;
  o.poison_rate = 0.1;
  o.cross_ratio = 2;
  WaNet attack(o, kShape);
  auto clean = toy_set(400);
  auto p = attack.poison(clean, 5);
  EXPECT_EQ(p.poison_mask.sum().item<int64_t>(), 40);
  auto changed = p.data.images.ne(clean.images).flatten(1).any(1);
  // Poisoned rows and the 80 noise-mode rows are warped; only poisoned rows are relabelled.
  EXPECT_EQ(changed.logical_and(p.poison_mask.logical_not()).sum().item<int64_t>(), 80);
  EXPECT_TRUE(p.data.labels.index({p.poison_mask.logical_not()}).eq(clean.labels.index({p.poison_mask.logical_not()})).all().item<bool>());
  expect_same(p, attack.poison(clean, 5));
  o.trigger_seed = 9;
  EXPECT_FALSE(torch::equal(WaNet(o, kShape).grid(), attack.grid()));
}

// --- Label-Consistent -----------------------------------------------------------------------

TEST(LabelConsistent, CheckerboardsInAllFourCorners) {
  LabelConsistent attack({}, kShape);
  auto mask = attack.mask(16, 16);
  EXPECT_EQ(mask.sum().item<float>(), 36.0f);
  for (auto [y, x] : std::vector<std::pair<int, int>>{{0, 0}, {0, 13}, {13, 0}, {13, 13}})
    EXPECT_EQ(mask[y][x].item<float>(), 1.0f);
  auto y = attack.apply_trigger(torch::full({1, 1, 16, 16}, 0.5));
  EXPECT_EQ(y[0][0][0][0].item<float>(), 1.0f);  // white corner of the checkerboard
  EXPECT_EQ(y[0][0][0][1].item<float>(), 0.0f);
  EXPECT_EQ(y[0][0][8][8].item<float>(), 0.5f);
  LabelConsistentOptions half;
  half.amplitude = 0.5;
  EXPECT_FLOAT_EQ(LabelConsistent(half, kShape).apply_trigger(torch::full({1, 1, 16, 16}, 0.5))[0][0][0][0].item<float>(), 0.75f);
}

TEST(LabelConsistent, PerturbsHalfTheTargetClassWithinEpsAndKeepsLabels) {
  SyntheticOptions so;
  so.size = 16;
  so.train_size = 200;
  auto data = make_synthetic(so);
  SingleProcessGroup group;
  ModelOptions m;
  m.image_size = 16;
  m.num_classes = so.num_classes;
  m.width = 8;
  TrainOptions t;
  t.epochs = 1;
  LabelConsistentOptions o;
  o.target = 1;
  o.poison_rate = 0.5;
  o.pgd.steps = 3;
  LabelConsistent attack(o, data.train.shape());
  AttackContext ctx{data.train, m, t, group, 7, {}, {}};
  attack.prepare(ctx);
  auto p = attack.poison(data.train, derive_seed(7, "poison"));
  EXPECT_TRUE(torch::equal(p.data.labels, data.train.labels));  // clean-label
  auto rows = p.poison_mask.nonzero().squeeze(1);
  const auto target_rows = data.train.labels.eq(1).sum().item<int64_t>();
  EXPECT_EQ(rows.numel(), std::llround(0.5 * target_rows));
  EXPECT_TRUE(data.train.labels.index_select(0, rows).eq(1).all().item<bool>());
  // Away from the corner triggers the change is the PGD perturbation: within eps (+ rounding).
  auto diff = (to_float(p.data.images.index_select(0, rows)) - to_float(data.train.images.index_select(0, rows)))
                  .narrow(2, 3, 10).narrow(3, 3, 10).abs();
  EXPECT_LE(diff.max().item<float>(), 8.0 / 255 + 0.5 / 255 + 1e-6);
  EXPECT_GT(diff.max().item<float>(), 1.0 / 255);
  // The corners hold the checkerboard.
  auto corners = to_float(p.data.images.index_select(0, rows)).select(2, 0).select(2, 0);
  EXPECT_TRUE(corners.eq(1).all().item<bool>());
}

TEST(LabelConsistent, PoisonNeedsPrepare) {
  LabelConsistent attack({}, kShape);
  EXPECT_THROW(attack.poison(toy_set(40), 0), RunError);
}

// --- TrojanNN ------------------------------------------------------------------------------

ModelOptions tiny_model(const ImageShape& s) {
  ModelOptions m;
  m.in_channels = static_cast<int>(s.channels);
  m.image_size = static_cast<int>(s.height);
  m.num_classes = s.num_classes;
  m.width = 8;
  return m;
}

TEST(TrojanNN, OptimisedPatternExcitesTheMostConnectedNeurons) {
  torch::manual_seed(0);
  Classifier model = make_model(tiny_model(kShape));
  TrojanNNOptions o;
  o.size = 5;
  o.steps = 150;
  TrojanNN attack(o, kShape);
  auto [before, after] = attack.optimise_trigger(*model);
  EXPECT_GT(after, 1.1 * before) << before << " -> " << after;
  // It beats every one of 20 random patterns in the same mask.
  auto m = attack.mask(16, 16);
  for (int i = 0; i < 20; ++i) {
    torch::NoGradGuard no_grad;
    auto random = (torch::rand({1, 16, 16}) * m).unsqueeze(0);
    EXPECT_LT(model->features(random).index_select(1, attack.selected_neurons()).mean().item<float>(), after);
  }
  // The chosen neurons are those with the most outgoing weight mass.
  auto mass = outgoing_weight_mass(*model, 128);
  auto top = std::get<1>(mass.topk(2));
  EXPECT_TRUE(torch::equal(std::get<0>(attack.selected_neurons().sort()), std::get<0>(top.sort())));
  // The pattern lives inside the fixed mask (bottom-right 5x5) and in [0, 1].
  EXPECT_EQ(m.sum().item<float>(), 25.0f);
  EXPECT_EQ(attack.pattern().mul(1 - m).abs().sum().item<float>(), 0.0f);
  EXPECT_GE(attack.pattern().min().item<float>(), 0.0f);
  EXPECT_LE(attack.pattern().max().item<float>(), 1.0f);
  // No stray parameter gradients left behind.
  for (auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(TrojanNN, OutgoingWeightMassReadsTheLinearHead) {
  torch::manual_seed(1);
  Classifier model = make_model(tiny_model(kShape));
  auto mass = outgoing_weight_mass(*model, 128);
  // small-cnn's head is its `out` Linear: mass_j = sum_k |W[k, j]|.
  auto w = model->named_parameters()["out.weight"];
  EXPECT_TRUE(torch::allclose(mass, w.abs().sum(0), 1e-5, 1e-6));
}

// --- Input-aware ---------------------------------------------------------------------------

TEST(InputAware, GeneratorShapesAndMaskRange) {
  for (const ImageShape& s : {ImageShape{1, 28, 28, 10}, ImageShape{3, 32, 32, 10}, ImageShape{3, 15, 15, 4}}) {
    InputAware attack({}, s);
    auto x = torch::rand({3, s.channels, s.height, s.width});
    auto p = attack.pattern(x), m = attack.mask(x);
    EXPECT_EQ(p.sizes(), x.sizes());
    EXPECT_EQ(m.sizes(), (std::vector<int64_t>{3, 1, s.height, s.width}));
    EXPECT_GE(m.min().item<float>(), 0.0f);
    EXPECT_LE(m.max().item<float>(), 1.0f);
    EXPECT_GE(p.min().item<float>(), 0.0f);
    EXPECT_LE(p.max().item<float>(), 1.0f);
    // x' = x + (g(x) - x) m(x)
    EXPECT_TRUE(torch::allclose(attack.apply_trigger(x), x + (p - x) * m, 1e-5, 1e-6));
  }
}

// What a resumed run restores instead of prepare()/infect(): a fresh instance given state()
// poisons and triggers exactly as the trained one.
TEST(Attacks, RestoredStatePoisonsAndTriggersAsTheOriginal) {
  SyntheticOptions so;
  so.size = 16;
  so.train_size = 120;
  const auto data = make_synthetic(so);
  const auto x = to_float(data.train.images.narrow(0, 0, 8));
  SingleProcessGroup group;
  TrainOptions t;
  t.epochs = 1;
  const ImageShape shape = data.train.shape();
  std::vector<std::pair<std::unique_ptr<Attack>, std::unique_ptr<Attack>>> pairs;
  {
    torch::manual_seed(1);
    auto trained = std::make_unique<TrojanNN>(TrojanNNOptions{}, shape);
    trained->optimise_trigger(*make_model(tiny_model(shape)));
    pairs.emplace_back(std::move(trained), std::make_unique<TrojanNN>(TrojanNNOptions{}, shape));
  }
  {
    LabelConsistentOptions o;
    o.pgd.steps = 2;
    auto trained = std::make_unique<LabelConsistent>(o, shape);
    trained->prepare(AttackContext{data.train, tiny_model(shape), t, group, 7, {}, {}});
    pairs.emplace_back(std::move(trained), std::make_unique<LabelConsistent>(o, shape));
  }
  {
    torch::manual_seed(2);
    auto trained = std::make_unique<InputAware>(InputAwareOptions{}, shape);
    torch::manual_seed(3);  // other weights until restored
    pairs.emplace_back(std::move(trained), std::make_unique<InputAware>(InputAwareOptions{}, shape));
  }
  for (auto& [trained, fresh] : pairs) {
    SCOPED_TRACE(trained->name());
    ASSERT_FALSE(trained->state().empty());
    fresh->restore(trained->state());
    expect_same(fresh->poison(data.train, derive_seed(7, "poison")), trained->poison(data.train, derive_seed(7, "poison")));
    EXPECT_TRUE(torch::equal(fresh->apply_trigger(x), trained->apply_trigger(x)));
    EXPECT_THROW(fresh->restore({}), std::runtime_error);
  }
}

TEST(InputAware, RejectsBadRates) {
  InputAwareOptions o;
  o.cross_rate = -0.1;
  EXPECT_THROW(InputAware(o, kShape), ConfigError);
  o = {};
  o.mask_density = 1.5;
  EXPECT_THROW(InputAware(o, kShape), ConfigError);
}

TEST(Attacks, BadOptionsAreConfigErrors) {
  BlendOptions b;
  b.alpha = -0.1;
  EXPECT_THROW(Blend(b, kShape), ConfigError);
  SigOptions s;
  s.mode = TargetMode::kAllToAll;
  EXPECT_THROW(Sig(s, kShape), ConfigError);
  WaNetOptions w;
  w.k = 1;
  EXPECT_THROW(WaNet(w, kShape), ConfigError);
  LabelConsistentOptions l;
  l.amplitude = 2;
  EXPECT_THROW(LabelConsistent(l, kShape), ConfigError);
  TrojanNNOptions t;
  t.size = 17;
  EXPECT_THROW(TrojanNN(t, kShape), ConfigError);
}

}  // namespace

// The plan's work estimate of a cell's attack (training images x epochs + extra_image_epochs)
// counts what the attack's progress reports, so a run's progress ends at 100%.
TEST(WorkEstimate, EveryAttacksProgressAddsUpToItsEstimate) {
  SyntheticOptions so;
  so.size = 16;
  so.train_size = 120;
  const auto data = make_synthetic(so);
  const ImageShape shape = data.train.shape();
  SingleProcessGroup group;
  TrainOptions t;
  t.epochs = 2;
  t.batch_size = 32;
  // `class_rows_off`: LC's estimate takes the target class as 1/num_classes of the set (30 of 120
  // here), which the synthetic set's random labels need not hold exactly; the difference in passes.
  auto check = [&](Attack& attack, double class_rows_off = 0) {
    SCOPED_TRACE(attack.name());
    std::map<std::string, int64_t> phases;  // images of each phase's last event
    AttackContext ctx{data.train, tiny_model(shape), t, group, 7, {}, [&](const ProgressEvent& e) { phases[e.phase] = e.images; }};
    torch::manual_seed(0);
    Classifier model = make_model(tiny_model(shape));
    attack.prepare(ctx);
    attack.infect(*model, ctx);
    double total = 0;
    for (const auto& [phase, images] : phases) total += static_cast<double>(images);
    EXPECT_DOUBLE_EQ(total + class_rows_off, 120.0 * t.epochs + attack.extra_image_epochs(120, t.epochs));
  };
  Blend blend({}, shape);
  check(blend);
  InputAwareOptions ia;
  ia.mask_epochs = 2;
  ia.train_epochs = 3;
  InputAware input_aware(ia, shape);
  check(input_aware);
  TrojanNNOptions tn;
  tn.steps = 2;
  TrojanNN trojannn(tn, shape);
  check(trojannn);
  LabelConsistentOptions lc;
  lc.pgd.steps = 2;
  LabelConsistent label_consistent(lc, shape);
  const auto target_rows = data.train.labels.eq(lc.target).sum().item<int64_t>();
  check(label_consistent, (lc.poison_rate * 120 / 4 - static_cast<double>(target_rows)) * (1 + lc.pgd.steps));
}
