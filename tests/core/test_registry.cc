// The registries: every dataset, model, attack and defense registered from its own .cc is there;
// attacks and defenses build from their declared defaults and declare each option key once with a
// meaning; datasets and models build what their entries say.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/attacks/registry.h"
#include "core/data/dataset_source.h"
#include "core/data/release_check.h"
#include "core/defenses/aft.h"
#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/models/registry.h"

namespace pbe {
namespace {

// Leaves every value as declared and collects each key (blocks as block.key) with its doc.
class KeyCollector final : public OptionVisitor {
 public:
  void operator()(const char* key, int&, const char* doc) override { add(key, doc); }
  void operator()(const char* key, int64_t&, const char* doc) override { add(key, doc); }
  void operator()(const char* key, uint64_t&, const char* doc) override { add(key, doc); }
  void operator()(const char* key, double&, const char* doc) override { add(key, doc); }
  void operator()(const char* key, bool&, const char* doc) override { add(key, doc); }
  void operator()(const char* key, std::string&, const char* doc) override { add(key, doc); }
  void operator()(const char* key, std::vector<int>&, const char* doc) override { add(key, doc); }
  void operator()(const char* key, std::vector<double>&, const char* doc) override { add(key, doc); }
  void operator()(const char* key, DefenseAugmentation&, const char* doc) override { add(key, doc); }
  void choice(const char* key, size_t&, const std::vector<std::string>& names, const char* doc) override {
    EXPECT_GE(names.size(), 2u) << key;
    add(key, doc);
  }
  void block(const char* key, const std::function<void(OptionVisitor&)>& body, const char* doc) override {
    KeyCollector inner;
    body(inner);
    EXPECT_FALSE(inner.keys.empty()) << key;
    for (const auto& k : inner.keys) add(std::string(key) + "." + k, "(inner)");
  }
  using OptionVisitor::choice;
  std::vector<std::string> keys;

 private:
  void add(const std::string& key, const std::string& doc) {
    EXPECT_FALSE(doc.empty()) << key << " has no meaning";
    keys.push_back(key);
  }
};

void expect_each_key_once(const std::string& plugin, const std::vector<std::string>& keys) {
  std::set<std::string> seen;
  for (const auto& k : keys) EXPECT_TRUE(seen.insert(k).second) << plugin << " declares " << k << " twice";
}

// "none" first, then the rest by name, each once, and `expected` among them (a plug-in added later
// needs no line here).
void expect_listed(const std::vector<std::string>& names, const std::vector<std::string>& expected) {
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "none");
  EXPECT_TRUE(std::is_sorted(names.begin() + 1, names.end()));
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const auto& name : expected)
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
}

TEST(Registry, HoldsEveryAttackAndDefenseNoneFirst) {
  expect_listed(AttackRegistry::instance().names(),
                {"badnets", "blend", "input-aware", "lc", "sig", "trojannn", "wanet"});
  expect_listed(DefenseRegistry::instance().names(), {"aft", "anp", "fp", "ft", "ibau", "mcr", "nad", "nc", "pbe"});
  EXPECT_EQ(DefenseRegistry::instance().find("abl"), nullptr);
}

TEST(Registry, EveryAttackBuildsFromItsDeclaredDefaults) {
  const ImageShape shape{3, 32, 32, 10};
  for (const AttackPlugin* p : AttackRegistry::instance().all()) {
    KeyCollector keys;
    const auto make = p->read(keys);
    expect_each_key_once(p->name, keys.keys);
    EXPECT_FALSE(p->summary.empty()) << p->name;
    const auto attack = make(shape);
    ASSERT_NE(attack, nullptr) << p->name;
    EXPECT_EQ(attack->name(), p->name);
    EXPECT_NE(make(shape).get(), attack.get()) << p->name << ": each cell gets its own attack";
  }
}

TEST(Registry, EveryDefenseBuildsFromItsDeclaredDefaults) {
  for (const DefensePlugin* p : DefenseRegistry::instance().all()) {
    KeyCollector keys;
    const auto make = p->read(keys);
    expect_each_key_once(p->name, keys.keys);
    EXPECT_FALSE(p->summary.empty()) << p->name;
    const auto defense = make();
    ASSERT_NE(defense, nullptr) << p->name;
    EXPECT_EQ(defense->name(), p->name);
    // Only the defenses that work without clean data ask for none.
    EXPECT_EQ(defense->clean_fraction() == 0, p->name == "none" || p->name == "pbe") << p->name;
  }
}

TEST(Registry, HoldsEveryDatasetAndModel) {
  EXPECT_EQ(known_datasets(), (std::vector<std::string>{"cifar10", "fashion-mnist", "gtsrb", "mnist", "synthetic"}));
  EXPECT_EQ(file_datasets(), (std::vector<std::string>{"cifar10", "fashion-mnist", "gtsrb", "mnist"}));
  EXPECT_EQ(known_models(), (std::vector<std::string>{"preact-resnet18", "small-cnn"}));
  try {
    image_shape(DatasetOptions{"imagenet"});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "unknown dataset 'imagenet' (known: cifar10, fashion-mnist, gtsrb, mnist, synthetic)");
  }
  EXPECT_EQ(official_release("gtsrb").classes, 43);
}

TEST(Registry, EveryDatasetDeclaresItsShapeStatisticsAndRelease) {
  for (const DatasetPlugin* d : DatasetRegistry::instance().all()) {
    EXPECT_FALSE(d->summary.empty()) << d->name;
    DatasetOptions options;
    options.name = d->name;
    const ImageShape shape = d->shape(options);
    const DatasetInfo info = d->info(static_cast<int>(shape.channels));
    EXPECT_EQ(info.mean.size(), static_cast<size_t>(shape.channels)) << d->name;
    EXPECT_EQ(info.std.size(), static_cast<size_t>(shape.channels)) << d->name;
    // Every dataset read from files has an official release its folders are checked against.
    EXPECT_EQ(d->reads_files, d->release.train > 0) << d->name;
    if (d->reads_files) EXPECT_EQ(d->release.classes, shape.num_classes) << d->name;
  }
  DatasetOptions synthetic;
  synthetic.name = "synthetic";
  synthetic.synthetic.channels = 3;
  synthetic.synthetic.train_size = 8;
  synthetic.synthetic.test_size = 4;
  const TrainTest data = load_dataset(synthetic);  // no path needed
  EXPECT_EQ(data.train.shape().channels, 3);
  EXPECT_EQ(dataset_info("synthetic", 3).mean.size(), 3u);
}

TEST(Registry, EveryModelBuildsForEveryShape) {
  for (const ModelPlugin* m : ModelRegistry::instance().all()) {
    EXPECT_FALSE(m->summary.empty()) << m->name;
    for (const ImageShape shape : {ImageShape{1, 28, 28, 10}, ImageShape{3, 32, 32, 43}}) {
      ModelOptions o;
      o.name = m->name;
      o.in_channels = static_cast<int>(shape.channels);
      o.image_size = static_cast<int>(shape.height);
      o.num_classes = shape.num_classes;
      o.mean.assign(o.in_channels, 0.5);
      o.std.assign(o.in_channels, 0.25);
      o.width = 8;
      const Classifier model = make_model(o);
      model->eval();
      const auto logits = model->forward(torch::rand({2, shape.channels, shape.height, shape.width}));
      EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, shape.num_classes})) << m->name;
    }
  }
}

TEST(Registry, ANameRegisteredTwiceIsRefused) {
  EXPECT_THROW((register_defense<NoDefense, NoOptions>("pbe", "again")), std::logic_error);
  EXPECT_THROW((register_attack<NoAttack, NoOptions>("badnets", "again")), std::logic_error);
}

}  // namespace
}  // namespace pbe
