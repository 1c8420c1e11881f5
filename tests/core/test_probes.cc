// The observation probes on a hand-built model whose features and predictions are known.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/attacks/badnets.h"
#include "core/probes/observation.h"
#include "distributed/single_process_group.h"

using namespace pbe;

namespace {

// 1x2x2 images; the features are the 4 pixels and the head is the identity: the predicted class
// is the brightest pixel.
class PixelModel : public ClassifierImpl {
 public:
  PixelModel() { w_ = register_parameter("w", torch::ones({1})); }
  torch::Tensor features(const torch::Tensor& x) override { return x.flatten(1) * w_; }
  torch::Tensor head(const torch::Tensor& f) override { return f; }

 private:
  torch::Tensor w_;
};

TEST(Probes, TopkJaccard) {
  auto a = torch::tensor({{5.0f, 4.0f, 0.0f, 0.0f}, {1.0f, 2.0f, 3.0f, 4.0f}});
  auto b = torch::tensor({{5.0f, 0.0f, 4.0f, 0.0f}, {1.0f, 2.0f, 3.0f, 4.0f}});
  // Row 0: {0, 1} vs {0, 2} -> 1/3; row 1: identical -> 1.
  EXPECT_NEAR(topk_jaccard(a, b, 2), (1.0 / 3 + 1.0) / 2, 1e-9);
}

TEST(Probes, KnownValuesWithoutPerturbation) {
  Dataset test;
  test.num_classes = 4;
  // Image i has its pixel i at 200 (the rest 20): the model predicts class i.
  test.images = torch::full({4, 1, 2, 2}, 20, torch::kByte);
  for (int i = 0; i < 4; ++i) test.images[i][0][i / 2][i % 2] = 200;
  test.labels = torch::arange(4, torch::kLong);
  BadNetsOptions bo;
  bo.size = 1;  // pixel (1, 1) = feature 3 set to 1: the trigger makes class 3
  bo.target = 3;
  BadNets attack(bo, test.shape());
  PixelModel model;
  SingleProcessGroup group;
  auto rows = probe_rows(test, attack, 100, 0);
  EXPECT_TRUE(torch::equal(rows, torch::tensor({0, 1, 2}, torch::kLong)));  // not the target class
  ProbeOptions o;
  o.pgd.steps = 0;  // adversarial example = the clean image
  o.top_k = 1;
  Observation obs = observe(model, test, rows, attack, o, group, 0);
  EXPECT_EQ(obs.samples, 3);
  EXPECT_TRUE(torch::equal(obs.confusion.diagonal().narrow(0, 0, 3), torch::ones({3}, torch::kLong)));
  EXPECT_EQ(obs.confusion.sum().item<int64_t>(), 3);
  EXPECT_DOUBLE_EQ(obs.target_fraction, 0.0);
  EXPECT_DOUBLE_EQ(obs.clean_flip, 0.0);
  // Triggering changes only feature 3: 20/255 -> 1.
  EXPECT_NEAR(obs.clean_to_triggered, 1.0 - 20.0 / 255, 1e-6);
  EXPECT_NEAR(obs.adversarial_to_triggered, obs.clean_to_triggered, 1e-9);
  // Top-1 neuron: the image's own pixel (clean) vs pixel 3 (triggered, 1 > 200/255): disjoint.
  EXPECT_DOUBLE_EQ(obs.clean_overlap, 0.0);
}

TEST(Probes, DumpsTheActivationsOfTheFirstProbedImages) {
  Dataset test;
  test.num_classes = 4;
  test.images = torch::randint(0, 256, {6, 1, 2, 2}, torch::kByte);
  test.labels = torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong);
  BadNetsOptions bo;
  bo.size = 1;
  bo.target = 3;
  BadNets attack(bo, test.shape());
  PixelModel model;
  SingleProcessGroup group;
  ProbeOptions o;
  o.pgd.eps = 8.0 / 255;
  o.pgd.step_size = 2.0 / 255;
  o.dump_samples = 4;
  o.dump_layers = {"penultimate", "logits"};
  auto rows = torch::tensor({0, 2, 3, 4, 5}, torch::kLong);
  Observation obs = observe(model, test, rows, attack, o, group, 0);
  std::vector<std::string> names;
  for (const auto& [name, a] : obs.activations) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"clean/penultimate", "clean/logits", "triggered/penultimate",
                                             "triggered/logits", "adversarial/penultimate", "adversarial/logits"}));
  // The pixel model's features are its pixels: the dumps are the images themselves.
  auto clean = to_float(test.images.index_select(0, rows.narrow(0, 0, 4))).flatten(1);
  EXPECT_TRUE(torch::allclose(obs.activations[0].second, clean));
  EXPECT_TRUE(torch::allclose(obs.activations[2].second, attack.apply_trigger(clean.view({4, 1, 2, 2})).flatten(1)));
  auto adversarial = obs.activations[4].second;
  EXPECT_LE((adversarial - clean).abs().max().item<float>(), 8.0f / 255 + 1e-6f);
  EXPECT_GT((adversarial - clean).abs().max().item<float>(), 1.0f / 255);
  o.dump_samples = 0;
  EXPECT_TRUE(observe(model, test, rows, attack, o, group, 0).activations.empty()) << "0 = off";
}

TEST(Probes, AdversarialExamplesLeaveTheTrueClass) {
  Dataset test;
  test.num_classes = 4;
  test.images = torch::full({3, 1, 2, 2}, 100, torch::kByte);
  for (int i = 0; i < 3; ++i) test.images[i][0][i / 2][i % 2] = 120;
  test.labels = torch::arange(3, torch::kLong);
  BadNetsOptions bo;
  bo.size = 1;
  bo.target = 3;
  BadNets attack(bo, ImageShape{1, 2, 2, 4});
  PixelModel model;
  SingleProcessGroup group;
  ProbeOptions o;
  o.pgd.eps = 16.0 / 255;  // more than the 20/255 margin needs after 7 steps
  o.pgd.step_size = 4.0 / 255;
  auto obs = observe(model, test, torch::arange(3, torch::kLong), attack, o, group, 0);
  EXPECT_DOUBLE_EQ(obs.clean_flip, 1.0);
  EXPECT_EQ(obs.confusion.diagonal().sum().item<int64_t>(), 0);
}

}  // namespace
