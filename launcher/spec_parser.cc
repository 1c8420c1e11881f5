#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/attacks/registry.h"
#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/models/classifier.h"
#include "launcher/registry.h"
#include "launcher/spec.h"
#include "launcher/yaml_map.h"
#include "launcher/yaml_options.h"
#include "util/join.h"
#include "util/memory.h"

namespace pbe {
namespace {

bool known(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void parse_dataset(YamlMap m, ExperimentSpec& spec) {
  auto& d = spec.dataset;
  d.name = m.get("name", d.name);
  if (!known(known_datasets(), d.name))
    m.fail(m.node("name"), "name", "unknown dataset '" + d.name + "' (known: " + join(known_datasets()) + ")");
  d.path = m.get("path", d.path);
  d.train_subset = m.get("train_subset", d.train_subset);
  d.test_subset = m.get("test_subset", d.test_subset);
  d.subset_seed = m.get("subset_seed", d.subset_seed);
  if (d.train_subset < 0 || d.test_subset < 0)
    m.fail(m.node("train_subset"), "train_subset", "subset sizes must be >= 0");
  auto s = m.map("synthetic");
  auto& so = d.synthetic;
  so.num_classes = s.get("classes", so.num_classes);
  so.channels = s.get("channels", so.channels);
  so.size = s.get("size", so.size);
  so.train_size = s.get("train", so.train_size);
  so.test_size = s.get("test", so.test_size);
  so.noise = s.get("noise", so.noise);
  so.seed = s.get("seed", so.seed);
  s.finish();
  if (so.num_classes < 2 || so.channels < 1 || so.size < 8 || so.train_size < 1 || so.test_size < 1)
    m.fail(m.node("synthetic"), "synthetic", "needs classes >= 2, channels >= 1, size >= 8, train/test >= 1");
  const double pixels = static_cast<double>(so.channels) * so.size * so.size;
  if (const std::string problem = memory_problem(pixels * static_cast<double>(so.train_size + so.test_size),
                                                 "its " + std::to_string(so.train_size + so.test_size) + " images");
      !problem.empty())
    m.fail(m.node("synthetic"), "synthetic", problem);
  spec.training.augmentation = dataset_info(d.name, static_cast<int>(image_shape(d).channels)).augmentation;
  auto a = m.map("augmentation");
  read_augmentation(a, spec.training.augmentation);
  m.finish();
}

void parse_training(YamlMap m, ExperimentSpec& spec) {
  TrainOptions& t = spec.training;
  t.epochs = m.get("epochs", t.epochs);
  t.batch_size = m.get("batch_size", t.batch_size);
  t.lr = m.get("lr", t.lr);
  t.momentum = m.get("momentum", t.momentum);
  t.weight_decay = m.get("weight_decay", t.weight_decay);
  YamlOptions(m).choice("schedule", t.schedule, lr_schedule_names(), "");
  t.milestones = m.get("milestones", t.milestones);
  t.gamma = m.get("gamma", t.gamma);
  t.eval_every = m.get("eval_every", t.eval_every);
  spec.curve_test_samples = m.get("curve_test_samples", spec.curve_test_samples);
  if (spec.curve_test_samples < 0) m.fail(m.node("curve_test_samples"), "curve_test_samples", "must be >= 0");
  if (t.epochs < 1) m.fail(m.node("epochs"), "epochs", "must be >= 1");
  if (t.batch_size < 1) m.fail(m.node("batch_size"), "batch_size", "must be >= 1");
  if (!(t.lr > 0)) m.fail(m.node("lr"), "lr", "must be > 0");
  m.finish();
}

template <class Entry, class Parse>
std::vector<Entry> parse_list(YamlMap& top, const std::string& key, const std::vector<std::string>& names,
                              const char* what, Parse parse) {
  std::vector<Entry> out;
  if (!top.has(key)) return out;
  YAML::Node list = top.node(key);
  if (!list.IsSequence()) top.fail(list, key, "expected a list of " + std::string(what) + "s");
  std::set<std::string> ids;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = key + "[" + std::to_string(i) + "]";
    YAML::Node item = list[i];
    if (item.IsScalar()) {  // shorthand "- ft" for "- name: ft"
      YAML::Node expanded(YAML::NodeType::Map);
      expanded["name"] = item.Scalar();
      item = expanded;
    }
    YamlMap entry(item, path, top.file());
    auto name = entry.require<std::string>("name");
    if (!known(names, name))
      throw_config_error(top.file(), list[i], path + ".name",
                         "unknown " + std::string(what) + " '" + name + "' (known: " + join(names) + ")");
    std::string id = entry.get<std::string>("id", name);
    Entry e = parse(entry, name);
    e.id = id;
    if (!ids.insert(id).second)
      throw_config_error(top.file(), list[i], path + ".id",
                         "duplicate " + std::string(what) + " '" + id + "' (give each an id)");
    entry.finish();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

const EnumNames<Device>& names(Device) {
  static const EnumNames<Device> n{{"cpu", Device::kCpu}, {"cuda", Device::kCuda}};
  return n;
}
const EnumNames<BackendChoice>& names(BackendChoice) {
  static const EnumNames<BackendChoice> n{
      {"auto", BackendChoice::kAuto}, {"mpi", BackendChoice::kMpi}, {"nccl", BackendChoice::kNccl}};
  return n;
}
const EnumNames<Precision>& names(Precision) {
  static const EnumNames<Precision> n{{"fp32", Precision::kFp32}, {"tf32", Precision::kTf32}, {"bf16", Precision::kBf16}};
  return n;
}

ExperimentSpec parse_spec_text(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(file + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
  }
  if (!root.IsMap()) throw ConfigError(file + ":1: the spec must be a mapping of keys");
  ExperimentSpec spec;
  spec.file = file;
  spec.text = text;
  YamlMap top(root, "", file);
  spec.name = top.get<std::string>("name", std::filesystem::path(file).stem().string());
  spec.output = top.get<std::string>("output", "results/" + spec.name + ".h5");
  spec.model_store = top.get("model_store", spec.model_store);
  if (spec.model_store.empty()) top.fail(top.node("model_store"), "model_store", "must be auto, none or a folder");
  spec.threads = top.get("threads", spec.threads);
  if (spec.threads < 0) top.fail(top.node("threads"), "threads", "must be >= 0 (0 = automatic)");
  spec.ranks_per_cell = top.get("ranks_per_cell", spec.ranks_per_cell);
  if (spec.ranks_per_cell < 0) top.fail(top.node("ranks_per_cell"), "ranks_per_cell", "must be >= 0 (0 = all ranks)");
  auto one_of = [&](const std::string& key, auto& value) {
    const std::string name = top.get(key, to_string(value));
    std::vector<std::string> allowed;
    for (const auto& [n, e] : names(value)) {
      allowed.emplace_back(n);
      if (n == name) value = e;
    }
    if (!known(allowed, name)) top.fail(top.node(key), key, "unknown value '" + name + "' (known: " + join(allowed) + ")");
  };
  one_of("device", spec.device);
  one_of("backend", spec.backend);
  one_of("precision", spec.precision);
  spec.channels_last = top.get("channels_last", spec.channels_last);
  if (spec.backend == BackendChoice::kNccl && spec.device != Device::kCuda)
    top.fail(top.node("backend"), "backend", "nccl needs device: cuda");
  parse_dataset(top.map("dataset"), spec);
  {
    auto m = top.map("model");
    spec.model = m.get("name", spec.model);
    if (!known(known_models(), spec.model))
      m.fail(m.node("name"), "name", "unknown model '" + spec.model + "' (known: " + join(known_models()) + ")");
    spec.model_width = m.get("width", spec.model_width);
    if (spec.model_width < 0) m.fail(m.node("width"), "width", "must be >= 0 (0 = the model's default)");
    m.finish();
  }
  parse_training(top.map("training"), spec);
  {
    auto m = top.map("probes");
    spec.probes.samples = m.get("samples", spec.probes.samples);
    spec.probes.top_k = m.get("top_k", spec.probes.top_k);
    spec.probes.dump_samples = m.get("dump_samples", spec.probes.dump_samples);
    spec.probes.dump_layers = m.get("dump_layers", spec.probes.dump_layers);
    if (spec.probes.dump_samples < 0) m.fail(m.node("dump_samples"), "dump_samples", "must be >= 0 (0 = off)");
    for (const auto& layer : spec.probes.dump_layers)
      if (!known(dump_layer_names(), layer))
        m.fail(m.node("dump_layers"), "dump_layers",
               "unknown layer '" + layer + "' (known: " + join(dump_layer_names()) + ")");
    YamlOptions(m).block("pgd", [&](OptionVisitor& v) { spec.probes.pgd.visit(v); }, "");
    if (spec.probes.samples < 0) m.fail(m.node("samples"), "samples", "must be >= 0 (0 = off)");
    if (spec.probes.top_k < 1) m.fail(m.node("top_k"), "top_k", "must be >= 1");
    try {
      check_pgd_options(spec.probes.pgd, "probes");
    } catch (const ConfigError& e) {
      m.fail(m.node("pgd"), "pgd", e.what());
    }
    m.finish();
  }
  const ImageShape shape = image_shape(spec.dataset);
  spec.attacks = parse_list<AttackEntry>(top, "attacks", AttackRegistry::instance().names(), "attack",
                                         [&](YamlMap& m, const std::string& name) {
                                           return parse_attack(m, name, shape);
                                         });
  spec.defenses = parse_list<DefenseEntry>(top, "defenses", DefenseRegistry::instance().names(), "defense",
                                           [&](YamlMap& m, const std::string& name) {
                                             return parse_defense(m, name);
                                           });
  if (spec.attacks.empty()) throw_config_error(file, root, "attacks", "at least one attack is required");
  if (spec.defenses.empty()) throw_config_error(file, root, "defenses", "at least one defense is required");
  if (top.has("seeds")) {
    YAML::Node s = top.node("seeds");
    spec.seeds = s.IsSequence() ? convert_scalar<std::vector<int>>(s, "seeds", file)
                                : std::vector<int>{convert_scalar<int>(s, "seeds", file)};
    if (spec.seeds.empty()) top.fail(s, "seeds", "at least one seed is required");
    std::set<int> unique(spec.seeds.begin(), spec.seeds.end());
    if (unique.size() != spec.seeds.size()) top.fail(s, "seeds", "duplicate seed");
  }
  top.finish();
  return spec;
}

ExperimentSpec parse_spec_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read spec file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_spec_text(buf.str(), path);
}

}  // namespace pbe
