#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/data/augmentation.h"
#include "core/data/synthetic.h"
#include "core/errors.h"
#include "core/models/classifier.h"

using namespace pbe;

namespace {

TEST(Models, SmallCnnShapes) {
  ModelOptions o;  // 1x28x28, 10 classes
  auto m = make_model(o);
  EXPECT_EQ(m->forward(torch::rand({3, 1, 28, 28})).sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_EQ(m->features(torch::rand({3, 1, 28, 28})).size(1), 128);
}

TEST(Models, PreActResNet18AnyChannelsAndSize) {
  ModelOptions o;
  o.name = "preact-resnet18";
  o.in_channels = 3;
  o.image_size = 32;
  o.mean = {0.5, 0.5, 0.5};
  o.std = {0.25, 0.25, 0.25};
  auto m = make_model(o);
  m->eval();
  EXPECT_EQ(m->forward(torch::rand({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(m->features(torch::rand({2, 3, 32, 32})).size(1), 512);
  EXPECT_GT(parameter_count(*m), 11000000);  // ~11.2M, as in the paper's PreAct-ResNet-18
  o.in_channels = 1;
  o.image_size = 28;
  o.mean = {0.5};
  o.std = {0.5};
  EXPECT_EQ(make_model(o)->forward(torch::rand({2, 1, 28, 28})).size(1), 10);
}

TEST(Models, NormalisationIsInsideTheModel) {
  // forward() takes images in [0, 1] and normalises them itself: the same weights with mean 0.3
  // and std 0.2 give on x what they give with mean 0.5 and std 0.5 on the image whose
  // normalisation is the same, (x - 0.3) / 0.2 * 0.5 + 0.5.
  ModelOptions o;
  o.mean = {0.3};
  o.std = {0.2};
  torch::manual_seed(3);
  auto m = make_model(o);
  torch::manual_seed(3);
  auto reference = make_model(ModelOptions{});
  m->eval();
  reference->eval();
  torch::NoGradGuard no_grad;
  auto x = torch::rand({4, 1, 28, 28});
  auto same = (x - 0.3) / 0.2 * 0.5 + 0.5;
  EXPECT_TRUE(torch::allclose(m->forward(x), reference->forward(same), 1e-4, 1e-5));
  EXPECT_FALSE(torch::allclose(m->forward(x), reference->forward(x), 1e-4, 1e-5));
}

TEST(Models, CloneCopiesStateAndIsIndependent) {
  ModelOptions o;
  torch::manual_seed(1);
  auto a = make_model(o);
  auto b = clone_model(*a, o);
  auto x = torch::rand({2, 1, 28, 28});
  EXPECT_TRUE(torch::allclose(a->forward(x), b->forward(x)));
  {
    torch::NoGradGuard g;
    b->parameters()[0].add_(1.0);
  }
  EXPECT_FALSE(torch::allclose(a->forward(x), b->forward(x)));
}

TEST(Models, UnknownNameAndBadShapes) {
  ModelOptions o;
  o.name = "vgg";
  EXPECT_THROW(make_model(o), ConfigError);
  o = {};
  o.mean = {0.5, 0.5};
  EXPECT_THROW(make_model(o), ConfigError);
}

TEST(Synthetic, SeededAndShaped) {
  SyntheticOptions s;
  s.channels = 3;
  auto a = make_synthetic(s), b = make_synthetic(s);
  EXPECT_EQ(a.train.images.sizes(), (std::vector<int64_t>{512, 3, 12, 12}));
  EXPECT_TRUE(a.train.images.equal(b.train.images));
  EXPECT_TRUE(a.test.labels.equal(b.test.labels));
  s.seed = 1;
  EXPECT_FALSE(make_synthetic(s).train.images.equal(a.train.images));
  EXPECT_NO_THROW(a.train.validate("synthetic"));
}

TEST(Augmentation, CropShiftsWithZeroPaddingAndFlipMirrors) {
  auto x = torch::arange(16, torch::kFloat).reshape({1, 1, 4, 4});
  Augmentation aug{1, true};
  AugmentationDraws d{torch::tensor({0L}), torch::tensor({2L}), torch::tensor({true}), torch::tensor({true}),
                      torch::tensor({0.0f})};
  auto y = apply_augmentation(x, aug, d);
  // Crop at (dy=0, dx=2) of the 1-padded image = content shifted down 1 and left 1, then mirrored.
  auto expected = torch::tensor({0.f, 0.f, 0.f, 0.f, 0.f, 3.f, 2.f, 1.f, 0.f, 7.f, 6.f, 5.f,
                                 0.f, 11.f, 10.f, 9.f}).reshape({1, 1, 4, 4});
  EXPECT_TRUE(y.equal(expected)) << y;
  EXPECT_TRUE(x.equal(torch::arange(16, torch::kFloat).reshape({1, 1, 4, 4})));  // input untouched
}

TEST(Augmentation, DrawsAreSeededAndInRange) {
  Augmentation aug{2, true};
  auto a = draw_augmentation(aug, 100, 5), b = draw_augmentation(aug, 100, 5);
  EXPECT_TRUE(a.dx.equal(b.dx));
  EXPECT_TRUE(a.flip.equal(b.flip));
  EXPECT_GE(a.dy.min().item<int64_t>(), 0);
  EXPECT_LE(a.dy.max().item<int64_t>(), 4);
  EXPECT_GT(a.flip.sum().item<int64_t>(), 20);
  EXPECT_TRUE(a.crop.all().item<bool>());
  EXPECT_TRUE(a.angle.eq(0).all().item<bool>());
}

TEST(Augmentation, ReleaseCropsSomeImagesAndRotatesAboutTheCentre) {
  Augmentation aug = pbe_release_augmentation();
  auto d = draw_augmentation(aug, 2000, 3);
  const double cropped = d.crop.to(torch::kDouble).mean().item<double>();
  const double rotated = d.angle.ne(0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(cropped, 0.8, 0.04);
  EXPECT_NEAR(rotated, 0.5, 0.04);
  EXPECT_LE(d.angle.abs().max().item<float>(), 10 * M_PI / 180 + 1e-6);
  // A 90-degree turn (outside the release's range, for an exact check) of a 4x4 image, no crop or
  // flip: a pure rotation about the centre.
  Augmentation turn;
  turn.rotation_degrees = 90;
  auto x = torch::arange(16, torch::kFloat).reshape({1, 1, 4, 4});
  AugmentationDraws quarter{torch::tensor({0L}), torch::tensor({0L}), torch::tensor({false}),
                            torch::tensor({false}), torch::tensor({static_cast<float>(M_PI / 2)})};
  auto y = apply_augmentation(x, turn, quarter);
  EXPECT_TRUE(torch::allclose(y, x.rot90(1, {2, 3}), 1e-4, 1e-4) || torch::allclose(y, x.rot90(-1, {2, 3}), 1e-4, 1e-4))
      << y;
  // An image drawn without rotation or crop is left exactly as it was.
  AugmentationDraws none{torch::tensor({1L}), torch::tensor({1L}), torch::tensor({false}), torch::tensor({false}),
                         torch::tensor({0.0f})};
  aug.crop_padding = 1;
  EXPECT_TRUE(apply_augmentation(x, aug, none).equal(x));
}

TEST(Models, ReplicateCopiesWeightsModeAndStagesIndependently) {
  for (const char* name : {"small-cnn", "preact-resnet18"}) {
    ModelOptions m;
    m.name = name;
    m.image_size = 12;
    m.num_classes = 4;
    m.width = 4;
    torch::manual_seed(2);
    Classifier model = make_model(m);
    model->eval();
    Classifier copy = model->replicate();
    EXPECT_FALSE(copy->is_training());
    auto x = torch::rand({3, 1, 12, 12});
    auto staged = copy->forward_stages(x);
    EXPECT_TRUE(torch::allclose(staged.logits, model->forward(x), 1e-5, 1e-6)) << name;
    EXPECT_EQ(staged.stages.size(), 3u) << name;
    torch::NoGradGuard no_grad;
    copy->parameters()[0].add_(1.0f);
    EXPECT_FALSE(torch::equal(copy->parameters()[0], model->parameters()[0])) << "storage is not shared";
  }
}

}  // namespace
