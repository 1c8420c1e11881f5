#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/attacks/badnets.h"
#include "core/attacks/registry.h"
#include "core/data/dataset_source.h"
#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/models/classifier.h"
#include "launcher/plan.h"
#include "launcher/spec.h"
#include "util/join.h"

using namespace pbe;

namespace {

const char* kValid = R"(name: t
output: out/t.h5
dataset:
  name: synthetic
  synthetic: {classes: 4, size: 12, train: 64, test: 32}
model:
  name: small-cnn
  width: 8
training:
  epochs: 2
  lr: 0.05
  schedule: multistep
  milestones: [1]
attacks:
  - none
  - name: badnets
    poison_rate: 0.2
    target: 3
defenses:
  - none
  - name: ft
    epochs: 1
seeds: [0, 1]
)";

std::string error_of(const std::string& text) {
  try {
    parse_spec_text(text, "spec.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return "";
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return s.replace(pos, from.size(), to);
}

TEST(SpecParser, ParsesAValidSpec) {
  ExperimentSpec s = parse_spec_text(kValid, "spec.yaml");
  EXPECT_EQ(s.name, "t");
  EXPECT_EQ(s.output, "out/t.h5");
  EXPECT_EQ(s.dataset.name, "synthetic");
  EXPECT_EQ(s.dataset.synthetic.num_classes, 4);
  EXPECT_EQ(s.model_width, 8);
  EXPECT_EQ(s.training.epochs, 2);
  EXPECT_EQ(s.training.schedule, LrSchedule::kMultiStep);
  EXPECT_EQ(s.training.milestones, std::vector<int>{1});
  ASSERT_EQ(s.attacks.size(), 2u);
  EXPECT_EQ(s.attacks[0].id, "none");
  auto* badnets = dynamic_cast<const BadNets*>(s.attacks[1].prototype.get());
  ASSERT_NE(badnets, nullptr);
  EXPECT_DOUBLE_EQ(badnets->options().poison_rate, 0.2);
  EXPECT_EQ(badnets->options().target, 3);
  EXPECT_EQ(badnets->options().size, 3);  // the default
  ASSERT_EQ(s.defenses.size(), 2u);
  EXPECT_EQ(s.defenses[1].id, "ft");
  EXPECT_DOUBLE_EQ(s.defenses[1].defense->clean_fraction(), 0.05);
  EXPECT_EQ(s.seeds, (std::vector<int>{0, 1}));
  EXPECT_EQ(s.text, kValid);
}

TEST(SpecParser, UnknownTopLevelKeyNamesLineAndKey) {
  EXPECT_EQ(error_of(std::string(kValid) + "epochz: 3\n"), "spec.yaml:24: epochz: unknown key");
}

// Found by fuzz/spec.cc: YAML allows a list, a mapping or null as a key, which was converted to
// a string unchecked and escaped as yaml-cpp's exception instead of a one-line error.
TEST(SpecParser, KeysThatAreNoNamesAreRefusedWithTheirLine) {
  EXPECT_EQ(error_of(std::string(kValid) + "[0, 1]: 3\n"), "spec.yaml:24: a key must be a name, got a list");
  EXPECT_EQ(error_of(replace(kValid, "  epochs: 2\n", "  epochs: 2\n  [0, 1]: 1\n")),
            "spec.yaml:11: training: a key must be a name, got a list");
  EXPECT_EQ(error_of(replace(kValid, "  epochs: 2\n", "  epochs: 2\n  ? {a: 1}\n  : 1\n")),
            "spec.yaml:11: training: a key must be a name, got a mapping");
  EXPECT_EQ(error_of(std::string(kValid) + "~: 3\n"), "spec.yaml:24: a key must be a name, got a null");
}

TEST(SpecParser, UnknownNestedKey) {
  EXPECT_EQ(error_of(replace(kValid, "  epochs: 2\n", "  epoch: 2\n")),
            "spec.yaml:10: training.epoch: unknown key");
}

TEST(SpecParser, UnknownAttackOption) {
  EXPECT_EQ(error_of(replace(kValid, "    target: 3\n", "    tagret: 3\n")),
            "spec.yaml:18: attacks[1].tagret: unknown key");
}

TEST(SpecParser, WrongTypeNamesTheValue) {
  EXPECT_EQ(error_of(replace(kValid, "poison_rate: 0.2", "poison_rate: lots")),
            "spec.yaml:17: attacks[1].poison_rate: expected a number, got 'lots'");
  EXPECT_EQ(error_of(replace(kValid, "  epochs: 2\n", "  epochs: 2.5\n")),
            "spec.yaml:10: training.epochs: expected an integer, got '2.5'");
}

TEST(SpecParser, UnknownNames) {
  EXPECT_EQ(error_of(replace(kValid, "name: badnets", "name: badnet")),
            "spec.yaml:16: attacks[1].name: unknown attack 'badnet' (known: " +
                join(AttackRegistry::instance().names()) + ")");
  EXPECT_EQ(error_of(replace(kValid, "  - name: ft", "  - name: abl")),
            "spec.yaml:21: defenses[1].name: unknown defense 'abl' (known: " +
                join(DefenseRegistry::instance().names()) + ")");
  EXPECT_EQ(error_of(replace(kValid, "name: small-cnn", "name: vgg")),
            "spec.yaml:7: model.name: unknown model 'vgg' (known: " + join(known_models()) + ")");
  EXPECT_EQ(error_of(replace(kValid, "name: synthetic", "name: imagenet")),
            "spec.yaml:4: dataset.name: unknown dataset 'imagenet' (known: " + join(known_datasets()) + ")");
}

TEST(SpecParser, OptionChecksReportTheEntry) {
  EXPECT_EQ(error_of(replace(kValid, "target: 3", "target: 4")),
            "spec.yaml:16: attacks[1]: badnets: target 4 outside [0, 4)");
  // A patch larger than the 12x12 synthetic images fails before anything runs.
  EXPECT_EQ(error_of(replace(kValid, "target: 3", "size: 13")),
            "spec.yaml:16: attacks[1]: badnets: a 13-pixel patch with margin 0 does not fit a 12x12 image");
  EXPECT_EQ(error_of(replace(kValid, "target: 3", "mode: some-to-one")),
            "spec.yaml:18: attacks[1].mode: expected all-to-one or all-to-all, got 'some-to-one'");
}

// Every attack's own checks reach the spec with the offending key named.
TEST(SpecParser, BadAttackOptionsNameTheKey) {
  auto attack = [](const std::string& entry) {
    return error_of(replace(kValid, "  - name: badnets\n    poison_rate: 0.2\n    target: 3\n", entry));
  };
  EXPECT_EQ(attack("  - name: blend\n    alpha: 1.5\n"),
            "spec.yaml:16: attacks[1]: blend: alpha must be in [0, 1], got 1.500000");
  EXPECT_NE(attack("  - name: blend\n    image: /nonexistent/t.ppm\n").find("attacks[1]: /nonexistent/t.ppm: cannot open image file"),
            std::string::npos);
  EXPECT_EQ(attack("  - name: sig\n    mode: all-to-all\n"),
            "spec.yaml:16: attacks[1]: sig: a clean-label attack is all-to-one only (mode: all-to-one)");
  EXPECT_EQ(attack("  - name: wanet\n    k: 20\n"), "spec.yaml:16: attacks[1]: wanet: k larger than the image");
  EXPECT_EQ(attack("  - name: lc\n    pgd: {norm: l3}\n"),
            "spec.yaml:17: attacks[1].pgd.norm: expected linf or l2, got 'l3'");
  EXPECT_EQ(attack("  - name: lc\n    pgd: {epz: 0.1}\n"), "spec.yaml:17: attacks[1].pgd.epz: unknown key");
  EXPECT_EQ(attack("  - name: lc\n    size: 7\n"),
            "spec.yaml:16: attacks[1]: lc: size must be >= 1 and fit twice across the image");
  EXPECT_EQ(attack("  - name: trojannn\n    position: centre\n"),
            "spec.yaml:16: attacks[1]: trojannn: unknown position 'centre' (bottom-right, bottom-left, top-right or top-left)");
  EXPECT_EQ(attack("  - name: input-aware\n    cross_rate: 0.95\n"),
            "spec.yaml:16: attacks[1]: input-aware: cross_rate must be >= 0 and poison_rate + cross_rate <= 1");
  EXPECT_EQ(attack("  - name: input-aware\n    crossrate: 0.1\n"),
            "spec.yaml:17: attacks[1].crossrate: unknown key");
}

TEST(SpecParser, EveryAttackParsesWithItsDefaultsRecorded) {
  for (const std::string name : {"badnets", "blend", "sig", "wanet", "input-aware", "lc", "trojannn"}) {
    auto s = parse_spec_text(replace(kValid, "name: badnets\n    poison_rate: 0.2\n    target: 3", "name: " + name),
                             "spec.yaml");
    ASSERT_EQ(s.attacks[1].id, name);
    EXPECT_EQ(s.attacks[1].make()->name(), name);
    const auto& o = s.attacks[1].options;
    auto has = [&](const std::string& key) {
      return std::any_of(o.begin(), o.end(), [&](const auto& kv) { return kv.first == key; });
    };
    EXPECT_TRUE(has("poison_rate") && has("target") && has("mode")) << name;
  }
}

// Every baseline defense parses with its options recorded, and its own checks reach the spec with
// the entry named.
TEST(SpecParser, BaselineDefensesParseAndCheckTheirOptions) {
  auto with = [&](const std::string& entry) {
    return parse_spec_text(replace(kValid, "  - name: ft\n    epochs: 1\n", entry), "spec.yaml");
  };
  auto defense = [&](const std::string& entry) {
    return error_of(replace(kValid, "  - name: ft\n    epochs: 1\n", entry));
  };
  const std::vector<std::pair<std::string, std::string>> keys{
      {"fp", "max_acc_drop"}, {"nad", "betas"}, {"anp", "threshold"}, {"ibau", "fixed_point_iterations"}, {"nc", "init_cost"},
      {"mcr", "t"}};
  for (const auto& [name, key] : keys) {
    auto d = with("  - name: " + name + "\n").defenses[1];
    EXPECT_EQ(d.defense->name(), name);
    EXPECT_TRUE(std::any_of(d.options.begin(), d.options.end(), [&](const auto& kv) { return kv.first == key; }))
        << name << " records " << key;
  }
  auto nad = with("  - {name: nad, betas: [1, 2, 3]}\n").defenses[1];
  EXPECT_TRUE(std::any_of(nad.options.begin(), nad.options.end(),
                          [](const auto& kv) { return kv.first == "betas" && kv.second == "[1, 2, 3]"; }));
  EXPECT_EQ(defense("  - {name: anp, prune_by: largest}\n"),
            "spec.yaml:21: defenses[1]: anp: prune_by must be threshold or count, got 'largest'");
  EXPECT_EQ(defense("  - {name: nad, betas: []}\n"), "spec.yaml:21: defenses[1]: nad: betas must name at least one stage");
  EXPECT_EQ(defense("  - {name: ibau, patched_fraction: 2}\n"),
            "spec.yaml:21: defenses[1]: ibau: patched_fraction must be in [0, 1]");
  EXPECT_EQ(defense("  - {name: nc, anomaly_treshold: 2}\n"), "spec.yaml:21: defenses[1].anomaly_treshold: unknown key");
}

TEST(SpecParser, DefenseAugmentationIsAutoByDefaultAndRecorded) {
  auto recorded = [](const DefenseEntry& d, const std::string& key) {
    for (const auto& [k, v] : d.options)
      if (k == key) return v;
    return std::string("(absent)");
  };
  auto with = [&](const std::string& entry) {
    return parse_spec_text(replace(kValid, "  - name: ft\n    epochs: 1\n", entry), "spec.yaml");
  };
  EXPECT_EQ(recorded(with("  - name: pbe\n").defenses[1], "augmentation"), "auto");
  EXPECT_EQ(recorded(with("  - {name: pbe, augmentation: release}\n").defenses[1], "augmentation"), "release");
  EXPECT_EQ(recorded(with("  - {name: aft, augmentation: dataset}\n").defenses[1], "augmentation"), "dataset");
  auto custom = with("  - {name: aft, augmentation: {rotation_degrees: 5}}\n").defenses[1];
  EXPECT_EQ(recorded(custom, "augmentation"), "custom");
  EXPECT_EQ(recorded(custom, "augmentation.rotation_degrees"), "5");
  EXPECT_EQ(recorded(custom, "augmentation.crop_padding"), "0");
  EXPECT_EQ(error_of(replace(kValid, "  - name: ft\n    epochs: 1\n", "  - {name: pbe, augmentation: fancy}\n")),
            "spec.yaml:21: defenses[1].augmentation: expected auto, release, dataset or a mapping, got 'fancy'");
  EXPECT_EQ(error_of(replace(kValid, "  - name: ft\n    epochs: 1\n",
                             "  - {name: pbe, augmentation: {crop_probability: 2}}\n")),
            "spec.yaml:21: defenses[1].augmentation: augmentation: crop_probability and rotation_probability must be in [0, 1]");
}

TEST(SpecParser, SyntaxErrorHasALine) {
  auto msg = error_of("name: t\ndataset: [unclosed\n");
  EXPECT_EQ(msg.rfind("spec.yaml:", 0), 0u) << msg;
  EXPECT_NE(msg.find("YAML syntax error"), std::string::npos) << msg;
}

TEST(SpecParser, DuplicateIdsAndSeeds) {
  EXPECT_NE(error_of(replace(kValid, "  - none\n  - name: badnets", "  - badnets\n  - name: badnets"))
                .find("duplicate attack 'badnets'"),
            std::string::npos);
  EXPECT_EQ(error_of(replace(kValid, "seeds: [0, 1]", "seeds: [1, 1]")),
            "spec.yaml:23: seeds: duplicate seed");
}

TEST(SpecParser, RanksPerCell) {
  EXPECT_EQ(parse_spec_text(kValid, "spec.yaml").ranks_per_cell, 0);
  EXPECT_EQ(parse_spec_text(replace(kValid, "seeds: [0, 1]\n", "seeds: [0, 1]\nranks_per_cell: 2\n"), "spec.yaml")
                .ranks_per_cell, 2);
  EXPECT_EQ(error_of(replace(kValid, "seeds: [0, 1]\n", "seeds: [0, 1]\nranks_per_cell: -1\n")),
            "spec.yaml:24: ranks_per_cell: must be >= 0 (0 = all ranks)");
}

TEST(SpecParser, ComputeOptions) {
  const ExperimentSpec defaults = parse_spec_text(kValid, "spec.yaml");
  EXPECT_EQ(defaults.device, Device::kCpu);
  EXPECT_EQ(defaults.backend, BackendChoice::kAuto);
  EXPECT_EQ(defaults.precision, Precision::kFp32);
  EXPECT_FALSE(defaults.channels_last);
  const auto with = [](const std::string& lines) {
    return replace(kValid, "seeds: [0, 1]\n", "seeds: [0, 1]\n" + lines);
  };
  const ExperimentSpec gpu =
      parse_spec_text(with("device: cuda\nbackend: nccl\nprecision: bf16\nchannels_last: true\n"), "spec.yaml");
  EXPECT_EQ(gpu.device, Device::kCuda);
  EXPECT_EQ(gpu.backend, BackendChoice::kNccl);
  EXPECT_EQ(gpu.precision, Precision::kBf16);
  EXPECT_TRUE(gpu.channels_last);
  EXPECT_EQ(parse_spec_text(with("device: cuda\nprecision: tf32\n"), "spec.yaml").precision, Precision::kTf32);
  EXPECT_EQ(error_of(with("device: tpu\n")), "spec.yaml:24: device: unknown value 'tpu' (known: cpu, cuda)");
  EXPECT_EQ(error_of(with("precision: fp16\n")),
            "spec.yaml:24: precision: unknown value 'fp16' (known: fp32, tf32, bf16)");
  EXPECT_EQ(error_of(with("backend: nccl\n")), "spec.yaml:24: backend: nccl needs device: cuda");
  EXPECT_NE(error_of(with("channels_last: maybe\n")).find("spec.yaml:24: channels_last"), std::string::npos);
}

TEST(SpecParser, ModelStoreIsAutoNoneOrAFolder) {
  EXPECT_EQ(parse_spec_text(kValid, "spec.yaml").model_store, "auto");
  const auto with = [](const std::string& lines) {
    return replace(kValid, "seeds: [0, 1]\n", "seeds: [0, 1]\n" + lines);
  };
  EXPECT_EQ(parse_spec_text(with("model_store: /shared/models\n"), "spec.yaml").model_store, "/shared/models");
  EXPECT_EQ(parse_spec_text(with("model_store: none\n"), "spec.yaml").model_store, "none");
  EXPECT_EQ(error_of(with("model_store: ''\n")), "spec.yaml:24: model_store: must be auto, none or a folder");
  EXPECT_NE(error_of(with("model_store: [a]\n")).find("spec.yaml:24: model_store"), std::string::npos);
}

TEST(SpecParser, CurveTestSamples) {
  EXPECT_EQ(parse_spec_text(kValid, "spec.yaml").curve_test_samples, 2000);
  EXPECT_EQ(parse_spec_text(replace(kValid, "  lr: 0.05\n", "  lr: 0.05\n  curve_test_samples: 0\n"),
                            "spec.yaml").curve_test_samples, 0);
  EXPECT_EQ(error_of(replace(kValid, "  lr: 0.05\n", "  lr: 0.05\n  curve_test_samples: -1\n")),
            "spec.yaml:12: training.curve_test_samples: must be >= 0");
}

TEST(SpecParser, ProbesBlock) {
  auto s = parse_spec_text(replace(kValid, "seeds: [0, 1]\n", "seeds: [0, 1]\nprobes: {samples: 50, pgd: {eps: 0.05}}\n"),
                           "spec.yaml");
  EXPECT_EQ(s.probes.samples, 50);
  EXPECT_DOUBLE_EQ(s.probes.pgd.eps, 0.05);
  EXPECT_EQ(s.probes.top_k, 10);
  EXPECT_EQ(parse_spec_text(kValid, "spec.yaml").probes.samples, 1000);
  EXPECT_EQ(error_of(replace(kValid, "seeds: [0, 1]\n", "seeds: [0, 1]\nprobes: {samples: -1}\n")),
            "spec.yaml:24: probes.samples: must be >= 0 (0 = off)");
  EXPECT_EQ(error_of(replace(kValid, "seeds: [0, 1]\n", "seeds: [0, 1]\nprobes: {pgd: {eps: -1}}\n")),
            "spec.yaml:24: probes.pgd: probes: eps, step_size and steps must be >= 0");
  auto dumps = parse_spec_text(
      replace(kValid, "seeds: [0, 1]\n", "seeds: [0, 1]\nprobes: {dump_samples: 64, dump_layers: [logits, penultimate]}\n"),
      "spec.yaml");
  EXPECT_EQ(dumps.probes.dump_samples, 64);
  EXPECT_EQ(dumps.probes.dump_layers, (std::vector<std::string>{"logits", "penultimate"}));
  EXPECT_EQ(error_of(replace(kValid, "seeds: [0, 1]\n", "seeds: [0, 1]\nprobes: {dump_layers: [conv1]}\n")),
            "spec.yaml:24: probes.dump_layers: unknown layer 'conv1' (known: penultimate, logits)");
}

TEST(SpecParser, MissingFile) {
  try {
    parse_spec_file("/nonexistent/spec.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/spec.yaml: cannot read spec file");
  }
}

TEST(SpecParser, EveryShippedSpecParses) {
  int specs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(PBE_SOURCE_DIR) + "/experiments")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(parse_spec_file(entry.path().string()));
    ++specs;
  }
  EXPECT_GE(specs, 10);
}

TEST(SpecParser, ShippedSpecsParse) {
  ExperimentSpec smoke = parse_spec_file(std::string(PBE_SOURCE_DIR) + "/experiments/smoke.yaml");
  EXPECT_EQ(smoke.dataset.name, "fashion-mnist");
  EXPECT_EQ(smoke.attacks.size(), 2u);
  // The demo: the clean row, an attack PBE erases and one it does not; FT beside PBE; the probes.
  ExperimentSpec quick = parse_spec_file(std::string(PBE_SOURCE_DIR) + "/experiments/quick.yaml");
  EXPECT_EQ(quick.dataset.name, "fashion-mnist");
  std::vector<std::string> ids;
  for (const auto& a : quick.attacks) ids.push_back(a.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"none", "blend", "badnets"}));
  ids.clear();
  for (const auto& d : quick.defenses) ids.push_back(d.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"none", "ft", "pbe"}));
  EXPECT_GT(quick.probes.samples, 0);
  // The paper's matrix: 8 attack rows x 3 seeds, 9 defenses, on each dataset.
  for (const char* f : {"all.yaml", "all-gtsrb.yaml"}) {
    ExperimentSpec s = parse_spec_file(std::string(PBE_SOURCE_DIR) + "/experiments/" + f);
    EXPECT_EQ(s.model, "preact-resnet18") << f;
    EXPECT_EQ(s.attacks.size() * s.seeds.size(), 24u) << f;
    EXPECT_EQ(s.defenses.size(), 9u) << f;
    EXPECT_EQ(s.device, Device::kCuda) << f;
  }
  EXPECT_EQ(parse_spec_file(std::string(PBE_SOURCE_DIR) + "/experiments/all-gtsrb.yaml").dataset.name, "gtsrb");
  // The CPU-sized CIFAR-10 runs: the clean row and the paper's five attacks, PBE beside AFT and FT.
  ExperimentSpec c = parse_spec_file(std::string(PBE_SOURCE_DIR) + "/experiments/cifar10.yaml");
  EXPECT_EQ(c.dataset.name, "cifar10");
  EXPECT_EQ(c.model, "preact-resnet18");
  EXPECT_EQ(c.attacks.size(), 6u);
  EXPECT_EQ(c.defenses.size(), 4u);
  EXPECT_EQ(c.device, Device::kCpu);
  // Its BadNets hypotheses: the same victim recipe, the probes at eps 16/255, a 5x5 trigger.
  ExperimentSpec b = parse_spec_file(std::string(PBE_SOURCE_DIR) + "/experiments/cifar10-badnets.yaml");
  EXPECT_EQ(b.training.epochs, c.training.epochs);
  EXPECT_EQ(b.model_width, c.model_width);
  EXPECT_NEAR(b.probes.pgd.eps, 16.0 / 255, 1e-9);
  EXPECT_NEAR(b.probes.pgd.step_size, b.probes.pgd.eps / 5, 1e-9);
  ASSERT_EQ(b.attacks.size(), 3u);
  EXPECT_EQ(b.attacks[2].id, "badnets-5x5");
}

}  // namespace

namespace {

TEST(Plan, SelectCellsByListRangeOrSlice) {
  using V = std::vector<int>;
  EXPECT_EQ(select_cells("", 4), (V{0, 1, 2, 3}));
  EXPECT_EQ(select_cells("1,3-4", 5), (V{0, 2, 3}));
  EXPECT_EQ(select_cells("2,2,1-2", 5), (V{0, 1}));
  EXPECT_EQ(select_cells("1/2", 5), (V{0, 2, 4}));
  EXPECT_EQ(select_cells("2/2", 5), (V{1, 3}));
  EXPECT_EQ(select_cells("3/3", 2), V{});  // a task with no cell runs nothing
  for (const char* bad : {"0", "6", "2-1", "x", "1,", "1-", "0/2", "3/2", "1/0", "a/b", "1/2/3"})
    EXPECT_THROW(select_cells(bad, 5), ConfigError) << bad;
}

}  // namespace
