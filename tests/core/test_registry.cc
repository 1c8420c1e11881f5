// The attack and defense registries: every plug-in registered from its own .cc is there, builds
// from its declared defaults, and declares each option key once with a meaning.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/attacks/registry.h"
#include "core/defenses/aft.h"
#include "core/defenses/registry.h"

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

TEST(Registry, HoldsEveryAttackAndDefenseNoneFirst) {
  EXPECT_EQ(AttackRegistry::instance().names(),
            (std::vector<std::string>{"none", "badnets", "blend", "input-aware", "lc", "sig", "trojannn", "wanet"}));
  EXPECT_EQ(DefenseRegistry::instance().names(),
            (std::vector<std::string>{"none", "aft", "anp", "fp", "ft", "ibau", "mcr", "nad", "nc", "pbe"}));
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

TEST(Registry, ANameRegisteredTwiceIsRefused) {
  EXPECT_THROW((register_defense<NoDefense, NoOptions>("pbe", "again")), std::logic_error);
  EXPECT_THROW((register_attack<NoAttack, NoOptions>("badnets", "again")), std::logic_error);
}

}  // namespace
}  // namespace pbe
