#include "launcher/victim_recipe.h"

#include <fmt/format.h>
#include <torch/version.h>

#include <functional>
#include <stdexcept>

#include "core/data/augmentation.h"
#include "core/options.h"
#include "core/training/model_store.h"
#include "pbe_version.h"

namespace pbe {
namespace {

void add_tensor(Sha256& hash, const at::Tensor& t) {
  const auto c = t.cpu().contiguous();
  hash.update(fmt::format("{} {}\n", c.dtype().name(), fmt::join(c.sizes().vec(), "x")));
  hash.update(c.data_ptr(), c.numel() * c.element_size());
}

std::string numbers(const std::vector<double>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); }

// Appends each option an options struct visits as "<prefix><key>: <value>", so the recipe follows
// the struct's own declaration of its keys.
class RecipeLines final : public OptionVisitor {
 public:
  RecipeLines(std::string& out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}
  void operator()(const char* key, int& v, const char*) override { add(key, v); }
  void operator()(const char* key, int64_t& v, const char*) override { add(key, v); }
  void operator()(const char* key, uint64_t& v, const char*) override { add(key, v); }
  void operator()(const char* key, double& v, const char*) override { add(key, v); }
  void operator()(const char* key, bool& v, const char*) override { add(key, v); }
  void operator()(const char* key, std::string& v, const char*) override { add(key, v); }
  void operator()(const char* key, std::vector<int>& v, const char*) override { add(key, fmt::format("[{}]", fmt::join(v, ", "))); }
  void operator()(const char* key, std::vector<double>& v, const char*) override { add(key, numbers(v)); }
  void operator()(const char* key, DefenseAugmentation&, const char*) override {
    throw std::logic_error(std::string("victim recipe: ") + key + ": a defense's option");
  }
  void choice(const char* key, size_t& index, const std::vector<std::string>& names, const char*) override {
    add(key, names.at(index));
  }
  void block(const char* key, const std::function<void(OptionVisitor&)>& body, const char*) override {
    RecipeLines inner(out_, prefix_ + key + ".");
    body(inner);
  }

 private:
  template <class T>
  void add(const char* key, const T& value) { out_ += fmt::format("{}{}: {}\n", prefix_, key, value); }
  std::string& out_;
  std::string prefix_;
};

}  // namespace

std::string data_digest(const Dataset& train, const Dataset& curve_test) {
  Sha256 hash;
  for (const Dataset* d : {&train, &curve_test}) {
    add_tensor(hash, d->images);
    add_tensor(hash, d->labels);
    hash.update(fmt::format("classes {}\n", d->num_classes));
  }
  return hash.hex();
}

std::string victim_recipe(const ExperimentSpec& spec, const AttackEntry& attack, int seed, const ModelOptions& model,
                          const std::string& data_digest, const RecipeCompute& compute) {
  const TrainOptions& t = spec.training;
  std::string r;
  auto line = [&r](const char* key, const auto& value) { r += fmt::format("{}: {}\n", key, value); };
  line("recipe", 1);
  line("code", fmt::format("pbe-dist {} ({}), LibTorch {}", PBE_VERSION, PBE_GIT_REVISION, TORCH_VERSION));
  line("dataset", spec.dataset.name);
  line("data_sha256", data_digest);  // the training set and the curves' test subset, as loaded
  line("curve_test_samples", spec.curve_test_samples);
  line("model", model.name);
  line("width", model.width);
  line("input", fmt::format("{}x{}x{}, {} classes", model.in_channels, model.image_size, model.image_size,
                            model.num_classes));
  line("normalize", fmt::format("mean {} std {}", numbers(model.mean), numbers(model.std)));
  line("attack", attack.prototype->name());
  for (const auto& [key, value] : attack.options) r += fmt::format("attack.{}: {}\n", key, value);
  line("seed", seed);
  line("epochs", t.epochs);
  line("batch_size", t.batch_size);
  line("lr", t.lr);
  line("momentum", t.momentum);
  line("weight_decay", t.weight_decay);
  for (const auto& [name, s] : lr_schedule_names())
    if (s == t.schedule) line("schedule", name);
  line("milestones", fmt::format("[{}]", fmt::join(t.milestones, ", ")));
  line("gamma", t.gamma);
  line("eval_every", t.eval_every);
  Augmentation augmentation = t.augmentation;  // visit() takes it by reference
  RecipeLines lines(r, "augmentation.");
  augmentation.visit(lines);
  line("device", to_string(spec.device));
  line("precision", to_string(spec.precision));
  line("channels_last", spec.channels_last);
  line("ranks", compute.group_size);
  line("threads", compute.threads);
  return r;
}

}  // namespace pbe
