#include "launcher/victim_recipe.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "core/training/model_store.h"
#include "launcher/spec.h"

namespace pbe {
namespace {

const char* const kSpec = R"(name: recipe
output: results/recipe.h5
dataset:
  name: synthetic
  synthetic: {classes: 4, channels: 1, size: 12, train: 60, test: 20, seed: 3}
model:
  name: small-cnn
  width: 8
training:
  epochs: 4
  batch_size: 32
  lr: 0.02
attacks:
  - name: badnets
    poison_rate: 0.1
defenses:
  - none
seeds: [0]
)";

// The model store's key of the spec's first attack, seed 0, from `text` with `from` replaced by
// `to` (an edit that must be found), for the given data digest and compute.
std::string key_of(const std::string& from = "", const std::string& to = "", const std::string& digest = "data",
                   RecipeCompute compute = {2, 1}, int seed = 0) {
  std::string text = kSpec;
  if (!from.empty()) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
  }
  const ExperimentSpec spec = parse_spec_text(text, "recipe.yaml");
  ModelOptions model;
  model.name = spec.model;
  model.width = spec.model_width;
  model.channels_last = spec.channels_last;
  return ModelStore::key(victim_recipe(spec, spec.attacks.front(), seed, model, digest, compute));
}

TEST(VictimRecipe, TheSameInputsGiveTheSameKeyAndWhatDoesNotTrainTheVictimChangesNothing) {
  const std::string base = key_of();
  EXPECT_EQ(base.size(), 64u);
  EXPECT_EQ(key_of(), base);
  EXPECT_EQ(key_of("name: recipe", "name: other"), base);
  EXPECT_EQ(key_of("output: results/recipe.h5", "output: elsewhere/x.h5"), base);
  EXPECT_EQ(key_of("defenses:\n  - none", "defenses:\n  - none\n  - ft"), base);
}

// One edit per kind of input: each must give another key.
TEST(VictimRecipe, EveryKindOfInputChangesTheKey) {
  const std::string base = key_of();
  const std::vector<std::pair<std::string, std::string>> edits{
      {"width: 8", "width: 16"},                                          // the model
      {"poison_rate: 0.1", "poison_rate: 0.2"},                           // the attack's options
      {"  - name: badnets\n    poison_rate: 0.1", "  - name: blend\n    poison_rate: 0.1"},  // the attack
      {"epochs: 4", "epochs: 5"},                                         // the training recipe
      {"lr: 0.02", "lr: 0.03"},
      {"batch_size: 32", "batch_size: 16"},
      {"name: synthetic\n", "name: synthetic\n  augmentation: {crop_padding: 1}\n"},
      {"lr: 0.02", "lr: 0.02\n  schedule: constant"},
      {"lr: 0.02", "lr: 0.02\n  curve_test_samples: 10"},  // the curves
      {"output: results/recipe.h5", "output: results/recipe.h5\nprecision: bf16"},         // compute
      {"output: results/recipe.h5", "output: results/recipe.h5\nchannels_last: true"},
  };
  for (const auto& [from, to] : edits) EXPECT_NE(key_of(from, to), base) << to;
  EXPECT_NE(key_of("", "", "other data"), base) << "the data: its digest, below";
  EXPECT_NE(key_of("", "", "data", {1, 1}), base) << "ranks";
  EXPECT_NE(key_of("", "", "data", {2, 2}), base) << "threads";
  EXPECT_NE(key_of("", "", "data", {2, 1}, 1), base) << "seed";
}

TEST(VictimRecipe, TheDataDigestSeesEveryPixelLabelAndTheCurveSubset) {
  auto make = [](int64_t n) {
    Dataset d;
    d.images = torch::arange(n * 4, torch::kLong).remainder(256).to(torch::kByte).view({n, 1, 2, 2});
    d.labels = torch::arange(n, torch::kLong).remainder(3);
    d.num_classes = 3;
    return d;
  };
  const Dataset train = make(10), test = make(4);
  const std::string base = data_digest(train, test);
  EXPECT_EQ(data_digest(make(10), make(4)), base);
  Dataset pixel = make(10);
  pixel.images[9][0][1][1] = 0;
  EXPECT_NE(data_digest(pixel, test), base);
  Dataset label = make(10);
  label.labels[0] = 2;
  EXPECT_NE(data_digest(label, test), base);
  EXPECT_NE(data_digest(train, make(3)), base);
  EXPECT_NE(data_digest(test, train), base) << "the training set and the curve subset are told apart";
}

TEST(ModelStore, KeysAreSha256AndEntriesAreListedWithTheirRecipes) {
  // FIPS 180-2's example.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string dir = ::testing::TempDir() + "/model-store-" + std::to_string(::getpid());
  const ModelStore store(dir);
  EXPECT_TRUE(store.list().empty());  // no folder yet
  const std::string key = store.put("recipe: 1\n", {{"model/w", torch::ones({2, 3})}});
  EXPECT_EQ(key, ModelStore::key("recipe: 1\n"));
  store.put("recipe: 2\n", {{"model/w", torch::zeros({4})}});
  const auto entries = store.list();
  ASSERT_EQ(entries.size(), 2u);
  const auto& first = entries[0].key == key ? entries[0] : entries[1];
  EXPECT_EQ(first.recipe, "recipe: 1\n");
  EXPECT_GT(first.bytes, 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pbe
