// ANP's mechanism on small models: which layers hold its neurons, the mask gradient against finite
// differences, masks in [0, 1] and perturbations in their eps ball at every step, the original
// weights restored, and the pruning rule.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/data/synthetic.h"
#include "core/defenses/anp.h"
#include "core/errors.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

struct Small {
  TrainTest data;
  ModelOptions options;
  Classifier model;
};

Small small_model(const std::string& name = "small-cnn") {
  Small r;
  SyntheticOptions so;
  so.size = 12;
  so.train_size = 128;
  so.test_size = 64;
  r.data = make_synthetic(so);
  r.options.name = name;
  r.options.image_size = 12;
  r.options.num_classes = 4;
  r.options.width = 4;
  torch::manual_seed(7);
  r.model = make_model(r.options);
  return r;
}

TEST(Anp, NeuronsAreBatchNormChannelsOrConvChannelsWithoutBatchNorm) {
  Small cnn = small_model();
  auto layers = neuron_layers(*cnn.model);
  ASSERT_EQ(layers.size(), 4u);  // conv1..conv4
  EXPECT_EQ(layers[0].name, "conv1");
  EXPECT_EQ(layers[3].weight.size(0), 8);
  Small resnet = small_model("preact-resnet18");
  for (const auto& l : neuron_layers(*resnet.model)) {
    EXPECT_NE(l.name.find("bn"), std::string::npos) << l.name;
    EXPECT_EQ(l.weight.dim(), 1);
  }
}

TEST(Anp, MaskGradientMatchesFiniteDifferences) {
  Small s = small_model();
  SingleProcessGroup group;
  auto x = to_float(s.data.train.images.narrow(0, 0, 32));
  auto y = s.data.train.labels.narrow(0, 0, 32);
  auto loss = [&] {
    torch::NoGradGuard no_grad;
    return torch::nn::functional::cross_entropy(s.model->forward(x), y).item<double>();
  };
  AnpOptions o;
  o.eps = 0;  // natural loss only: mask <- 1 - lr * dCE/dmask
  o.mask_lr = 1e-3;
  at::Tensor analytic;
  {
    NeuronMasks masks(*s.model, o);
    masks.step(x, y, 32, group, 1);
    analytic = (1 - masks.masks()) / o.mask_lr;
  }
  // Scaling neuron k's weight by (1 + h) is moving its mask by h. A mask would rise above 1 where
  // the gradient is negative: there it is clipped and stays at 1.
  const auto layers = neuron_layers(*s.model);
  int64_t at = 0, rising = 0, falling = 0;
  for (const auto& l : layers) {
    for (int64_t c = 0; c < l.weight.size(0); ++c) {
      const double h = 1e-2;
      torch::NoGradGuard no_grad;
      const auto w = l.weight[c].clone();
      l.weight[c].mul_(1 + h);
      const double up = loss();
      l.weight[c].copy_(w * (1 - h));
      const double down = loss();
      l.weight[c].copy_(w);
      const double fd = (up - down) / (2 * h), got = analytic[at + c].item<double>();
      if (fd > 2e-3) {
        ++falling;
        EXPECT_NEAR(got, fd, 1e-3 + 0.05 * fd) << l.name << " channel " << c;
      } else if (fd < -2e-3) {
        ++rising;
        EXPECT_EQ(got, 0.0) << l.name << " channel " << c << ": clipped at 1";
      }
    }
    at += l.weight.size(0);
  }
  EXPECT_GT(falling, 3);
  EXPECT_GT(rising, 3);
}

// The mask gradients read the weights' own layout: channels-last weights (spec channels_last)
// give the masks the standard layout gives.
TEST(Anp, ChannelsLastWeightsGiveTheSameMasks) {
  SingleProcessGroup group;
  AnpOptions o;
  std::vector<at::Tensor> masks;
  for (bool channels_last : {false, true}) {
    Small s = small_model();
    s.options.channels_last = channels_last;
    torch::manual_seed(7);
    s.model = make_model(s.options);
    auto x = to_float(s.data.train.images.narrow(0, 0, 32));
    auto y = s.data.train.labels.narrow(0, 0, 32);
    NeuronMasks state(*s.model, o);
    for (int i = 0; i < 3; ++i) state.step(x, y, 32, group, 1 + i);
    masks.push_back(state.masks().clone());
  }
  EXPECT_TRUE(torch::allclose(masks[0], masks[1], 1e-4, 1e-5)) << (masks[0] - masks[1]).abs().max();
}

TEST(Anp, MasksStayInTheUnitIntervalAndPerturbationsInTheirBall) {
  for (const char* name : {"small-cnn", "preact-resnet18"}) {
    Small s = small_model(name);
    SingleProcessGroup group;
    const auto before = s.model->parameters()[1].clone();
    AnpOptions o;
    o.mask_lr = 2.0;  // large steps, so the clipping is exercised
    o.perturbation_steps = 2;
    {
      NeuronMasks masks(*s.model, o);
      bool clipped = false, at_bound = false;
      for (int i = 0; i < 12; ++i) {
        auto rows = torch::arange(i * 10, i * 10 + 10);
        masks.step(to_float(s.data.train.images.index_select(0, rows)), s.data.train.labels.index_select(0, rows), 10,
                   group, i);
        EXPECT_GE(masks.masks().min().item<float>(), 0.0f) << name;
        EXPECT_LE(masks.masks().max().item<float>(), 1.0f) << name;
        EXPECT_LE(masks.weight_noise().abs().max().item<float>(), o.eps + 1e-6) << name;
        EXPECT_LE(masks.bias_noise().abs().max().item<float>(), o.eps + 1e-6) << name;
        clipped = clipped || masks.masks().eq(0).any().item<bool>();
        at_bound = at_bound || masks.weight_noise().abs().ge(o.eps - 1e-6).any().item<bool>();
      }
      EXPECT_TRUE(clipped) << name << ": some mask reached 0";
      EXPECT_TRUE(at_bound) << name << ": the ascent reached the ball's surface";
      EXPECT_LT(masks.masks().mean().item<float>(), 1.0f);
    }
    EXPECT_TRUE(torch::equal(s.model->parameters()[1], before)) << name << ": weights restored";
  }
}

TEST(Anp, PrunesByThresholdOrCountUpToTheCap) {
  auto masks = torch::tensor({0.9f, 0.1f, 0.5f, 0.05f, 0.1f, 1.0f, 0.15f, 0.8f, 0.3f, 0.7f});
  AnpOptions o;
  EXPECT_TRUE(torch::equal(neurons_to_prune(masks, o), torch::tensor({3, 1, 4, 6}, torch::kLong)));
  o.threshold = 0.1;  // strictly below
  EXPECT_TRUE(torch::equal(neurons_to_prune(masks, o), torch::tensor({3}, torch::kLong)));
  o.prune_by = "count";
  o.count = 3;
  EXPECT_TRUE(torch::equal(neurons_to_prune(masks, o), torch::tensor({3, 1, 4}, torch::kLong)));
  o.count = 10;
  o.max_prune_ratio = 0.5;
  EXPECT_EQ(neurons_to_prune(masks, o).numel(), 5);
  o = {};
  o.prune_by = "largest";
  EXPECT_THROW(Anp{o}, ConfigError);
}

TEST(Anp, ZeroesTheWeightsOfThePrunedNeuronsOnly) {
  Small s = small_model();
  SingleProcessGroup group;
  Classifier original = s.model->replicate();
  AnpOptions o;
  o.iterations = 20;
  o.batch_size = 32;
  o.prune_by = "count";
  o.count = 5;
  o.sweep_step = 0.25;
  std::vector<int64_t> zeroed;  // weights zeroed at each evaluation of the sweep
  EvalFn evaluate = [&](ClassifierImpl& m) {
    int64_t n = 0;
    for (const auto& l : neuron_layers(m))
      for (int64_t c = 0; c < l.weight.size(0); ++c) n += l.weight[c].abs().max().item<float>() == 0.0f;
    zeroed.push_back(n);
    return EvalPoint{0.5, 0.25};
  };
  DefenseContext ctx{s.data.train, s.data.train, {}, group, 2, evaluate, {}, {}};
  DefenseResult r = Anp(o).purify(*s.model, ctx);
  // The sweep (records only): 25%, 50% and 75% of the 24 neurons pruned in turn, each from the
  // unpruned model; 100% is beyond max_prune_ratio.
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[0].second, (std::vector<double>{6, 12, 18}));
  EXPECT_EQ(zeroed, (std::vector<int64_t>{6, 12, 18}));
  EXPECT_EQ(r.steps[3].second, (std::vector<double>{0.25, 0.25, 0.25}));
  ASSERT_EQ(r.neurons.size(), 4u);
  const auto layers = neuron_layers(*s.model), before = neuron_layers(*original);
  int pruned = 0;
  for (size_t i = 0; i < r.neurons[0].second.size(); ++i) {
    const auto l = static_cast<size_t>(r.neurons[0].second[i]);
    const auto c = static_cast<int64_t>(r.neurons[1].second[i]);
    if (r.neurons[3].second[i] > 0) {
      ++pruned;
      EXPECT_EQ(layers[l].weight[c].abs().max().item<float>(), 0.0f);
      EXPECT_TRUE(torch::equal(layers[l].bias[c], before[l].bias[c])) << "the bias is kept";
    } else {
      EXPECT_TRUE(torch::equal(layers[l].weight[c], before[l].weight[c]));
    }
  }
  EXPECT_EQ(pruned, 5);
}

}  // namespace
