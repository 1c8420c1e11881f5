// Where and how models compute: bf16 autocast, channels-last weights, the model's device. The
// CUDA test runs where LibTorch sees a GPU and skips elsewhere.
#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <stdexcept>

#include "core/data/synthetic.h"
#include "core/metrics/evaluation.h"
#include "core/models/autocast.h"
#include "core/models/classifier.h"
#include "core/training/trainer.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

ModelOptions tiny_model() {
  ModelOptions o;
  o.image_size = 12;
  o.num_classes = 4;
  o.width = 8;
  return o;
}

Classifier seeded_model(const ModelOptions& o) {
  torch::manual_seed(7);
  return make_model(o);
}

TrainOptions three_epochs() {
  TrainOptions t;
  t.epochs = 3;
  t.batch_size = 32;
  t.lr = 0.02;
  return t;
}

TEST(Autocast, Bf16InsideTheScopeFloat32Outside) {
  auto model = seeded_model(tiny_model());
  model->eval();
  const auto x = torch::rand({4, 1, 12, 12});
  EXPECT_EQ(model->forward(x).scalar_type(), torch::kFloat);
  {
    BFloat16Autocast scope(torch::kCPU, true);
    EXPECT_TRUE(bf16_autocast_enabled(torch::kCPU));
    EXPECT_EQ(model->forward(x).scalar_type(), torch::kBFloat16) << "the head's linear layer runs in bf16";
    EXPECT_EQ(torch::nn::functional::cross_entropy(model->forward(x), torch::zeros({4}, torch::kLong)).scalar_type(),
              torch::kFloat)
        << "losses stay float32";
  }
  EXPECT_FALSE(bf16_autocast_enabled(torch::kCPU));
  EXPECT_EQ(model->forward(x).scalar_type(), torch::kFloat);
  {
    BFloat16Autocast off(torch::kCPU, false);
    EXPECT_EQ(model->forward(x).scalar_type(), torch::kFloat) << "a disabled scope changes nothing";
  }
}

// `precision: tf32` turns TF32 on for cuDNN's convolutions and cuBLAS's matrix products; fp32 and
// bf16 turn both off (LibTorch's own default has convolutions on TF32). Global switches, so the
// test checks them on a machine without a GPU too.
TEST(Autocast, Tf32SwitchesConvolutionsAndMatrixProducts) {
  const auto precision = [](at::Float32Op op) {
    return at::globalContext().float32Precision(at::Float32Backend::CUDA, op);
  };
  set_cuda_tf32(true);
  EXPECT_EQ(precision(at::Float32Op::CONV), at::Float32Precision::TF32);
  EXPECT_EQ(precision(at::Float32Op::MATMUL), at::Float32Precision::TF32);
  set_cuda_tf32(false);
  EXPECT_EQ(precision(at::Float32Op::CONV), at::Float32Precision::IEEE);
  EXPECT_EQ(precision(at::Float32Op::MATMUL), at::Float32Precision::IEEE);
}

TEST(Autocast, NestedScopesAndExceptionsRestoreTheState) {
  {
    BFloat16Autocast outer(torch::kCPU, true);
    { BFloat16Autocast inner(torch::kCPU, true); }
    EXPECT_TRUE(bf16_autocast_enabled(torch::kCPU)) << "the inner scope's end leaves the outer one on";
  }
  EXPECT_FALSE(bf16_autocast_enabled(torch::kCPU));
  try {
    BFloat16Autocast scope(torch::kCPU, true);
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(bf16_autocast_enabled(torch::kCPU));
  EXPECT_THROW(BFloat16Autocast(torch::kMeta, true), std::exception);
  BFloat16Autocast on(torch::kCPU, true);
  {
    AutocastOff off(torch::kCPU);
    EXPECT_FALSE(bf16_autocast_enabled(torch::kCPU));
    EXPECT_EQ(torch::mm(torch::rand({2, 2}), torch::rand({2, 2})).scalar_type(), torch::kFloat);
  }
  EXPECT_TRUE(bf16_autocast_enabled(torch::kCPU));
}

// A few epochs under autocast: the weights and their gradients stay float32, the training reaches
// the same accuracy as float32, and the weights differ from float32's (bf16 really ran).
TEST(Autocast, TrainingKeepsFloat32WeightsAndLearns) {
  SyntheticOptions s;
  s.train_size = 512;
  s.test_size = 256;
  s.seed = 1;
  const TrainTest data = make_synthetic(s);
  SingleProcessGroup group;
  const TrainOptions t = three_epochs();
  auto fp32 = seeded_model(tiny_model());
  train_classifier(*fp32, data.train, t, group);
  auto bf16 = seeded_model(tiny_model());
  {
    BFloat16Autocast scope(torch::kCPU, true);
    train_classifier(*bf16, data.train, t, group);
  }
  for (const auto& p : bf16->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);
  const double acc32 = clean_accuracy(*fp32, data.test, group), acc16 = clean_accuracy(*bf16, data.test, group);
  EXPECT_GT(acc32, 0.8);
  EXPECT_NEAR(acc16, acc32, 0.05);
  double diff = 0;
  for (size_t i = 0; i < fp32->parameters().size(); ++i)
    diff = std::max(diff, (fp32->parameters()[i] - bf16->parameters()[i]).abs().max().item<double>());
  EXPECT_GT(diff, 1e-4);
}

TEST(Placement, ChannelsLastWeightsGiveTheSameModel) {
  ModelOptions o = tiny_model();
  auto plain = seeded_model(o);
  o.channels_last = true;
  auto nhwc = seeded_model(o);
  int four_d = 0;
  for (const auto& p : nhwc->parameters()) {
    if (p.dim() != 4 || p.size(1) == 1 || p.size(2) * p.size(3) == 1) continue;  // both layouts at once
    ++four_d;
    EXPECT_TRUE(p.is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_FALSE(p.is_contiguous());
  }
  EXPECT_GT(four_d, 0);
  plain->eval();
  nhwc->eval();
  const auto x = torch::rand({4, 1, 12, 12});
  EXPECT_TRUE(torch::allclose(plain->forward(x), nhwc->forward(x), 1e-4, 1e-5));
  // A copy keeps the layout and the device.
  auto copy = nhwc->replicate();
  for (const auto& p : copy->parameters())
    if (p.dim() == 4 && p.size(2) * p.size(3) > 1) EXPECT_TRUE(p.is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_EQ(copy->device(), nhwc->device());
  EXPECT_TRUE(torch::allclose(copy->forward(x), nhwc->forward(x)));
}

TEST(Placement, ModelsAreBuiltOnTheirDevice) {
  auto cpu = seeded_model(tiny_model());
  EXPECT_EQ(cpu->device(), torch::Device(torch::kCPU));
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA GPU";
  ModelOptions o = tiny_model();
  o.device = torch::Device(torch::kCUDA, 0);
  auto gpu = seeded_model(o);
  EXPECT_TRUE(gpu->device().is_cuda());
  for (const auto& b : gpu->buffers()) EXPECT_TRUE(b.is_cuda());
  EXPECT_TRUE(gpu->replicate()->device().is_cuda());
}

// The same training on the GPU and on the CPU: the same data order, augmentation and start, so
// the same accuracy up to float differences.
TEST(Placement, TrainingOnCudaMatchesTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA GPU";
  SyntheticOptions s;
  s.seed = 2;
  const TrainTest data = make_synthetic(s);
  SingleProcessGroup group;
  const TrainOptions t = three_epochs();
  ModelOptions o = tiny_model();
  auto cpu = seeded_model(o);
  train_classifier(*cpu, data.train, t, group);
  o.device = torch::Device(torch::kCUDA, 0);
  auto gpu = seeded_model(o);
  train_classifier(*gpu, data.train, t, group);
  EXPECT_TRUE(gpu->device().is_cuda());
  EXPECT_NEAR(clean_accuracy(*gpu, data.test, group), clean_accuracy(*cpu, data.test, group), 0.03);
}

}  // namespace
