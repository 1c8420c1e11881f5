// `pbe_dist purify`: PBE, or a clean-data defense, on a TorchScript model and data the user brings.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "core/data/dataset_source.h"
#include "core/defenses/registry.h"
#include "core/errors.h"
#include "core/metrics/evaluation.h"
#include "core/models/scripted_classifier.h"
#include "core/random.h"
#include "launcher/commands.h"
#include "launcher/progress_reporter.h"
#include "launcher/registry.h"
#include "util/atomic_file.h"

namespace pbe {
namespace {

constexpr const char* kSetOrigin = "purify --set";

// `key=value` pairs (dotted keys nest: pgd.eps=0.05) as the YAML mapping a spec entry would be,
// read by the same registry as `defenses:` entries.
YAML::Node method_entry(const std::string& method, const std::vector<std::string>& pairs) {
  YAML::Node root(YAML::NodeType::Map);
  root["name"] = method;
  for (const auto& pair : pairs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError(std::string(kSetOrigin) + ": expected key=value, got '" + pair + "'");
    const std::string key = pair.substr(0, eq);
    YAML::Node node = root;
    size_t begin = 0;
    for (size_t dot = key.find('.'); dot != std::string::npos; begin = dot + 1, dot = key.find('.', begin)) {
      YAML::Node child = node[key.substr(begin, dot - begin)];
      node.reset(child);
    }
    try {
      node[key.substr(begin)] = YAML::Load(pair.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      throw ConfigError(std::string(kSetOrigin) + ": " + key + ": cannot read '" + pair.substr(eq + 1) +
                        "': " + e.msg);
    }
  }
  return root;
}

}  // namespace

const std::vector<std::string>& purify_methods() {
  static const std::vector<std::string> methods = [] {
    std::vector<std::string> m = DefenseRegistry::instance().names();
    m.erase(std::remove(m.begin(), m.end(), "none"), m.end());
    return m;
  }();
  return methods;
}

namespace {

std::shared_ptr<const Defense> make_method(const PurifyOptions& o) {
  const auto& methods = purify_methods();
  if (std::find(methods.begin(), methods.end(), o.method) == methods.end())
    throw ConfigError("--method: expected one of " + fmt::format("{}", fmt::join(methods, ", ")) + ", got '" +
                      o.method + "'");
  YamlMap m(method_entry(o.method, o.set), "", kSetOrigin);
  m.require<std::string>("name");
  if (m.has("clean_fraction"))
    m.fail(m.node("clean_fraction"), "clean_fraction", "purify uses all of --clean's training split");
  DefenseEntry entry = parse_defense(m, o.method);
  m.finish();
  const bool needs_clean = entry.defense->clean_fraction() > 0;
  if (needs_clean && o.clean.empty())
    throw ConfigError("--method " + o.method + " needs clean extra data: --clean DIR");
  if (!needs_clean && !o.clean.empty())
    throw ConfigError("--clean is for the clean-data methods; --method " + o.method +
                      " works from the (possibly poisoned) --data alone");
  return entry.defense;
}

TrainTest load_split(const std::string& dir, const std::string& format) {
  DatasetOptions d;
  d.name = format;
  d.path = dir;
  d.test_optional = true;
  TrainTest data = load_dataset(d);
  data.train.validate(dir + " training split");
  if (data.test.size() > 0) data.test.validate(dir + " test split");
  return data;
}

// An output path we may write: its folder exists, and it is new unless --overwrite.
void check_output(const PurifyOptions& o) {
  namespace fs = std::filesystem;
  const fs::path out(o.out);
  const std::string dir = directory_of(o.out);
  if (!fs::is_directory(dir)) throw ConfigError(o.out + ": folder " + dir + " does not exist");
  if (fs::exists(out) && !o.overwrite)
    throw ConfigError(o.out + ": exists; pass --overwrite to replace it");
}

std::string percent(double fraction) {
  return std::isnan(fraction) ? "n/a" : fmt::format("{:.2f}%", 100 * fraction);
}

}  // namespace

int purify_command(const World& world, const PurifyOptions& o) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const bool root = world.rank() == 0;
  // Everything that can be wrong with the input fails here, before any work.
  auto method = make_method(o);
  check_output(o);
  TrainTest data = load_split(o.data, o.format);
  Dataset clean = o.clean.empty() ? data.train.subset(torch::empty({0}, torch::kLong))
                                  : load_split(o.clean, o.format).train;
  if (method->clean_fraction() > 0 && clean.size() == 0) throw DataError(o.clean + ": the clean training split is empty");
  auto model = load_scripted_classifier(o.model, data.train.shape());

  const int threads = set_torch_threads(o.threads, world);
  auto group = world.make_process_group();
  spdlog::info("purify: {} on {} ({} training / {} test images{}), model {} ({} parameters); {} rank(s), "
               "{} thread(s) each",
               o.method, o.data, data.train.size(), data.test.size(),
               clean.size() > 0 ? fmt::format(", {} clean", clean.size()) : "", o.model,
               parameter_count(*model), world.size(), threads);

  auto accuracy = [&](ClassifierImpl& m, const Dataset& test) { return clean_accuracy(m, test, *group); };
  // Per-epoch curve points on at most 2000 test images; before/after on all of them.
  const Dataset curve_test = seeded_subset(data.test, 2000, derive_seed(o.seed, "curve"));
  EvalFn evaluate;
  if (curve_test.size() > 0) evaluate = [&](ClassifierImpl& m) { return EvalPoint{accuracy(m, curve_test), NAN}; };

  const double acc_before = accuracy(*model, data.test);
  // The work of the sets it is given: all of --clean, whatever fraction of --data that is.
  ProgressReporter progress(root, method->estimated_image_epochs({data.train.size(), clean.size(), data.train.num_classes}));
  progress.start("purify " + o.method);
  const DatasetInfo info = dataset_info(data.train.name, static_cast<int>(data.train.channels()));
  DefenseContext ctx{data.train, clean, info.augmentation, *group, derive_seed(o.seed, "purify/" + o.method),
                     evaluate, progress.callback(), /*judge=*/{}};
  DefenseResult result = method->purify(*model, ctx);
  const double acc_after = accuracy(*model, data.test);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  if (!root) return 0;
  try {
    model->save(o.out);
  } catch (const std::runtime_error& e) {  // a full disk: no model, the file that was there kept
    throw Error(e.what(), kExitRunFailure, Error::Ranks::kThisOne);
  }

  std::cout << "purify: " << o.method << " on " << o.data << " (" << data.train.size()
            << " training images), model " << o.model << "\n";
  // What the defense's records say, by their columns (docs/results-format.md): a data-filtering
  // defense's working sets, or the classes a trigger-reversing one flagged.
  const auto column = [&](const std::string& name) -> const std::vector<double>* {
    for (const auto& [key, values] : result.steps)
      if (key == name) return &values;
    return nullptr;
  };
  const auto *size = column("size"), *acc = column("acc"), *secs = column("seconds");
  const auto *flagged = column("flagged"), *index = column("anomaly_index"), *norm = column("norm");
  if (size && acc && secs && result.selected.defined()) {
    for (size_t k = 0; k < size->size(); ++k)
      std::cout << fmt::format("  step {}: fine-tuned on {} rows, ACC {} ({})\n", k, (*size)[k], percent((*acc)[k]),
                               format_duration((*secs)[k]));
  } else if (flagged && index && norm) {
    std::string found;
    for (size_t k = 0; k < flagged->size(); ++k)
      if ((*flagged)[k] > 0)
        found += fmt::format(" {} (trigger L1 {:.1f}, anomaly index {:.2f})", k, (*norm)[k], (*index)[k]);
    std::cout << "  flagged classes:" << (found.empty() ? " none (the model is left as it was)" : found) << "\n";
  }
  if (result.selected.defined())
    std::cout << "  kept " << result.selected.numel() << " of " << data.train.size()
              << " training rows as clean after the last step\n";
  if (data.test.size() > 0)
    std::cout << "  ACC " << percent(acc_before) << " -> " << percent(acc_after) << " on " << data.test.size()
              << " test images\n";
  else
    std::cout << "  ACC not measured: " << o.data << " has no test split\n";
  std::cout << "  purified model: " << o.out << " (" << format_duration(seconds) << " on " << world.size()
            << " rank(s))" << std::endl;
  return 0;
}

}  // namespace pbe
