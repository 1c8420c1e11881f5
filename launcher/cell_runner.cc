#include "launcher/cell_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include "core/errors.h"
#include "core/metrics/evaluation.h"
#include "core/metrics/formulas.h"
#include "core/models/classifier.h"
#include "core/training/checkpoint.h"
#include "core/training/stop.h"
#include "core/training/trainer.h"

namespace pbe {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string percent(double v) { return std::isnan(v) ? "-" : fmt::format("{:.2f}%", 100 * v); }

Columns to_columns(const TrainCurve& curve) {
  Columns c{{"epoch", {}}, {"lr", {}}, {"loss", {}}, {"train_acc", {}}, {"seconds", {}},
            {"acc", {}},   {"asr", {}}};
  for (const auto& r : curve) {
    c[0].second.push_back(r.epoch);
    c[1].second.push_back(r.lr);
    c[2].second.push_back(r.loss);
    c[3].second.push_back(r.train_acc);
    c[4].second.push_back(r.seconds);
    c[5].second.push_back(r.eval.acc);
    c[6].second.push_back(r.eval.asr);
  }
  return c;
}

template <class T>
std::vector<T> to_vector(const torch::Tensor& t) {
  auto c = t.cpu().contiguous();
  return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

MatrixRow make_row(const CellKey& key, const std::string& defense, Status status,
                   const std::string& error, double seconds) {
  MatrixRow row;
  row.dataset = key.dataset;
  row.model = key.model;
  row.attack = key.attack;
  row.seed = key.seed;
  row.defense = defense;
  row.status = status;
  row.error = error;
  row.seconds = seconds;
  return row;
}

}  // namespace

CellRunner::CellRunner(const ExperimentSpec& spec, const TrainTest& data, ProcessGroup& group, torch::Device device,
                       ResultStore* store, ProgressReporter& progress, const ModelStore* models,
                       RecipeCompute compute)
    : spec_(spec), data_(data), group_(group), device_(device), store_(store), progress_(progress), models_(models),
      compute_(compute) {
  curve_test_ = seeded_subset(data.test, spec.curve_test_samples, derive_seed(0, "curve"));
  if (models_) data_digest_ = data_digest(data.train, curve_test_);
}

std::vector<ProbeRecord> CellRunner::run_probes(ClassifierImpl& infected, const Attack& attack, int seed) {
  const auto rows = probe_rows(data_.test, attack, spec_.probes.samples, derive_seed(seed, "probe-rows"));
  auto record = [&](const std::string& name, ClassifierImpl& m) {
    const Observation o = observe(m, data_.test, rows, attack, spec_.probes, group_, derive_seed(seed, "probe-pgd"));
    ProbeRecord r;
    r.model = name;
    r.values = {{"target_fraction", o.target_fraction},
                {"clean_flip", o.clean_flip},
                {"adversarial_to_triggered", o.adversarial_to_triggered},
                {"clean_to_triggered", o.clean_to_triggered},
                {"adversarial_overlap", o.adversarial_overlap},
                {"clean_overlap", o.clean_overlap},
                {"samples", static_cast<double>(o.samples)},
                {"top_k", static_cast<double>(spec_.probes.top_k)}};
    r.classes = o.confusion.size(0);
    r.confusion = to_vector<float>(o.confusion.to(torch::kFloat));
    for (const auto& [name, a] : o.activations) {
      auto sizes = a.sizes();
      r.activations.push_back({name, std::vector<uint64_t>(sizes.begin(), sizes.end()), to_vector<float>(a)});
    }
    if (!o.activations.empty()) {
      const auto dumped = rows.narrow(0, 0, o.activations.front().second.size(0));
      r.dump_rows = to_vector<double>(dumped.to(torch::kDouble));
      r.dump_labels = to_vector<double>(data_.test.labels.index_select(0, dumped).to(torch::kDouble));
    }
    spdlog::info("probes {} model: {:.1f}% of adversarial examples on the target; feature distance to "
                 "triggered {:.2f} (clean images {:.2f}); top-{} overlap {:.2f} (clean {:.2f})",
                 name, 100 * o.target_fraction, o.adversarial_to_triggered, o.clean_to_triggered,
                 spec_.probes.top_k, o.adversarial_overlap, o.clean_overlap);
    return r;
  };
  std::vector<ProbeRecord> out{record("infected", infected)};
  if (ClassifierImpl* clean = clean_model(seed)) out.push_back(record("clean", *clean));
  return out;
}

ModelOptions CellRunner::model_options() const {
  const Dataset& train = data_.train;
  ModelOptions o;
  o.name = spec_.model;
  o.in_channels = static_cast<int>(train.channels());
  o.image_size = static_cast<int>(train.height());
  o.num_classes = train.num_classes;
  o.width = spec_.model_width;
  auto info = dataset_info(spec_.dataset.name, o.in_channels);
  o.mean = info.mean;
  o.std = info.std;
  o.device = device_;
  o.channels_last = spec_.channels_last;
  return o;
}

std::string CellRunner::checkpoint_path(const std::string& id, int seed, const std::string& suffix) const {
  return spec_.output + ".ckpt/" + id + "-seed" + std::to_string(seed) + suffix;
}

namespace {
// A victim's tensors, as checkpoints and the model store keep them: the model's, then the attack's.
NamedTensors victim_state(ClassifierImpl& model, const Attack& attack) {
  NamedTensors state = model_state(model);
  for (const auto& [name, t] : attack.state()) state.emplace_back("attack/" + name, t);
  return state;
}
}  // namespace

void CellRunner::save_infected(const std::string& id, int seed, ClassifierImpl& model, const Attack& attack) {
  if (group_.rank() == 0) save_checkpoint(checkpoint_path(id, seed, ".pt"), victim_state(model, attack));
}

std::string CellRunner::recipe(const AttackEntry& attack, int seed) const {
  return victim_recipe(spec_, attack, seed, model_options(), data_digest_, compute_);
}

bool CellRunner::load_infected(const std::string& id, int seed, Classifier& model, Attack& attack) {
  return load_victim(checkpoint_path(id, seed, ".pt"), model, attack, nullptr);
}

bool CellRunner::load_victim(const std::string& path, Classifier& model, Attack& attack, TrainCurve* curve) {
  std::string problem;
  auto state = load_checkpoint_on_all(path, group_, problem);
  if (state) {
    try {
      model = make_model(model_options());
      load_model_state(*model, *state, path);
      model->eval();
      NamedTensors saved;
      for (const auto& [name, t] : *state)
        if (name.rfind("attack/", 0) == 0) saved.emplace_back(name.substr(7), t);
      attack.restore(saved);
      if (curve) *curve = load_curve_state(checkpoint_tensor(*state, "curve", path), path);
    } catch (const std::exception& e) {
      state.reset();
      problem = e.what();
    }
  }
  auto usable = torch::tensor({state ? 1 : 0}, torch::kInt);  // restore() may fail on one rank
  group_.allreduce(usable, ReduceOp::kMin);
  if (usable.item<int>() == 1) return true;
  if (group_.rank() == 0 && problem != "no checkpoint")
    spdlog::warn("{}: {}; training the model again", path, problem.empty() ? "unusable on another rank" : problem);
  return false;
}

Infection CellRunner::train_victim(Attack& attack, Classifier& model, const std::string& id, int seed,
                                   const EvalFn& eval_curve, bool epoch_checkpoints) {
  const ModelOptions options = model_options();
  torch::manual_seed(derive_seed(seed, "init"));
  model = make_model(options);
  TrainOptions t = spec_.training;
  t.seed = derive_seed(seed, "train");
  t.phase = "train";
  if (epoch_checkpoints) t.checkpoint_path = checkpoint_path(id, seed, ".train.pt");
  if (std::string problem; epoch_checkpoints && group_.rank() == 0 && std::filesystem::exists(t.checkpoint_path) &&
                           !load_checkpoint(t.checkpoint_path, problem))
    spdlog::warn("{}: {}; training from the first epoch", t.checkpoint_path, problem);
  AttackContext ctx{data_.train, options, t, group_, static_cast<uint64_t>(seed), eval_curve, progress_.callback()};
  attack.prepare(ctx);
  return attack.infect(*model, ctx);
}

ClassifierImpl* CellRunner::clean_model(int seed) {
  if (auto it = clean_models_.find(seed); it != clean_models_.end()) return it->second.get();
  for (const AttackEntry& entry : spec_.attacks) {
    auto attack = entry.make();
    if (!attack->is_clean()) continue;
    Classifier model;
    TrainCurve unused;
    bool loaded = load_infected(entry.id, seed, model, *attack);
    const std::string stored = models_ ? models_->tensors_path(ModelStore::key(recipe(entry, seed))) : "";
    if (!loaded && models_ && load_victim(stored, model, *attack, &unused)) {
      loaded = true;
      spdlog::info("seed {}: the clean model for the probes from the model store ({})", seed, stored);
    }
    if (!loaded) {
      // Not stored: its cell stores it with its curve, which this training does not evaluate.
      spdlog::info("seed {}: training the clean model for the probes (its cell runs elsewhere or later)", seed);
      // No epoch checkpoints: the clean cell's own training (another group, maybe) owns that file.
      train_victim(*attack, model, entry.id, seed, {}, /*epoch_checkpoints=*/false);
      save_infected(entry.id, seed, *model, *attack);
    }
    return (clean_models_[seed] = model).get();
  }
  return nullptr;
}

std::vector<MatrixRow> CellRunner::run(const Cell& cell) {
  const CellKey& key = cell.key;
  const Dataset& train = data_.train;
  const Dataset& test = data_.test;
  std::vector<MatrixRow> rows;

  // --resume: the units the results file holds are not run again.
  std::map<std::string, MatrixRow> stored_rows;  // defense id -> its row
  for (const MatrixRow& r : stored_.rows)
    if (r.dataset == key.dataset && r.model == key.model && r.attack == key.attack && r.seed == key.seed)
      stored_rows.emplace(r.defense, r);
  if (std::all_of(spec_.defenses.begin(), spec_.defenses.end(), [&](const auto& d) { return stored_rows.count(d.id) > 0; })) {
    spdlog::info("cell {} seed {}: in the results file already", key.attack, key.seed);
    for (const auto& d : spec_.defenses) rows.push_back(stored_rows.at(d.id));
    return rows;
  }
  stop_point(group_);  // a safe point: every finished unit is committed
  const auto stored_attack = stored_.attacks.find(key.group_path());
  const bool attack_stored = stored_attack != stored_.attacks.end() && stored_attack->second.status == Status::kDone;

  // This cell's own attack instance: prepare() and infect() may leave state in it (an optimised
  // trigger, a trained generator) that the defenses' evaluations use.
  std::unique_ptr<Attack> attack_ptr = cell.attack->make();
  Attack& attack = *attack_ptr;
  EvalFn eval_curve = [&](ClassifierImpl& m) {
    auto r = evaluate_backdoor(m, curve_test_, attack, group_);
    return EvalPoint{r.acc, r.asr};
  };

  // 1. The infected (or clean) model.
  const auto attack_start = Clock::now();
  AttackRecord arec;
  arec.options = cell.attack->options;
  BackdoorMetrics before;
  Classifier model;
  PoisonedDataset poisoned;  // The defender's training set: poisoned, the mask unknown to it.
  try {
    const std::string victim = models_ ? recipe(*cell.attack, key.seed) : "";
    arec.model_key = models_ ? ModelStore::key(victim) : "";
    TrainCurve stored_curve;
    if (attack_stored && load_infected(key.attack, key.seed, model, attack)) {
      spdlog::info("cell {} seed {}: infected model from its checkpoint", key.attack, key.seed);
      poisoned = attack.poison(train, derive_seed(key.seed, "poison"));  // as infect() made it
    } else if (models_ && load_victim(models_->tensors_path(arec.model_key), model, attack, &stored_curve)) {
      spdlog::info("cell {} seed {}: infected model from the model store ({})", key.attack, key.seed,
                   models_->tensors_path(arec.model_key));
      arec.model_source = "store";
      poisoned = attack.poison(train, derive_seed(key.seed, "poison"));  // as infect() made it
      arec.curve = to_columns(stored_curve);
      // The training it saves counts as done, not towards the throughput.
      progress_.on_event({"model store", 0, 1, 1, 1, 0, static_cast<int64_t>(cell.attack_image_epochs)});
    } else {
      Infection infection = train_victim(attack, model, key.attack, key.seed, eval_curve, /*epoch_checkpoints=*/true);
      poisoned = std::move(infection.poisoned);
      arec.curve = to_columns(infection.curve);
      save_infected(key.attack, key.seed, *model, attack);
      if (models_ && group_.rank() == 0) {
        NamedTensors entry = victim_state(*model, attack);
        entry.emplace_back("curve", curve_state(infection.curve));
        try {  // a cache: a run goes on without it
          models_->put(victim, entry);
        } catch (const std::exception& e) {
          spdlog::warn("model store: {}; this model is not stored", e.what());
        }
      }
    }
    before = evaluate_backdoor(*model, test, attack, group_);
    arec.poison_mask = to_vector<uint8_t>(poisoned.poison_mask.to(torch::kByte));
    arec.metrics = {{"acc", before.acc},
                    {"asr", before.asr},
                    {"ra", before.ra},
                    {"acc_denominator", static_cast<double>(before.acc_denominator)},
                    {"asr_denominator", static_cast<double>(before.asr_denominator)},
                    {"poison_count", poisoned.poison_mask.sum().item<double>()},
                    {"train_size", static_cast<double>(train.size())}};
    for (const auto& [name, tensor] : attack.artifacts(train.channels(), train.height(), train.width())) {
      auto t32 = tensor.to(torch::kFloat).contiguous();
      arec.trigger.push_back({name, std::vector<uint64_t>(t32.sizes().begin(), t32.sizes().end()),
                              to_vector<float>(t32)});
    }
    if (attack.is_clean()) {
      clean_models_[key.seed] = model->replicate();
    } else if (spec_.probes.samples > 0 && !attack_stored) {
      arec.probes = run_probes(*model, attack, key.seed);
    }
    spdlog::info("cell {}/{} {} seed {}: trained: ACC {:.2f}% ASR {}", cell.index + 1,
                 spec_.attacks.size() * spec_.seeds.size(), key.attack, key.seed, 100 * before.acc,
                 percent(before.asr));
  } catch (const RunError& e) {
    arec.status = Status::kFailed;
    arec.error = e.what();
    spdlog::error("cell {} seed {}: attack training failed: {}", key.attack, key.seed, e.what());
  }
  arec.seconds = since(attack_start);
  if (arec.status == Status::kFailed) {
    for (const auto& d : spec_.defenses) rows.push_back(make_row(key, d.id, Status::kFailed, "attack failed: " + arec.error, 0));
  }
  if (store_ && !attack_stored) {  // one unit: the attack (with its failed rows, if it failed)
    store_->commit([&](ResultWriter& w) {
      w.write_attack(key, arec);
      for (const auto& row : rows) w.append_matrix_row(row);
    });
  }
  if (arec.status == Status::kFailed) return rows;

  // 2. Each defense on a copy of the infected model. Data-filtering defenses' selections are
  // judged against the poison mask here, for the record only.
  const auto poison_mask = poisoned.poison_mask;
  const int64_t clean_total = train.size() - poison_mask.sum().item<int64_t>();
  SelectionJudge judge = [&](const at::Tensor& rows) {
    SelectionQuality q;
    q.size = rows.numel();
    q.poisoned = poison_mask.index_select(0, rows).sum().item<int64_t>();
    const double clean = static_cast<double>(q.size - q.poisoned);
    q.clean_precision = q.size > 0 ? clean / static_cast<double>(q.size) : NAN;
    q.clean_recall = clean_total > 0 ? clean / static_cast<double>(clean_total) : NAN;
    return q;
  };
  const auto order = seeded_permutation(train.size(), derive_seed(key.seed, "clean-extra"));
  for (size_t di = 0; di < spec_.defenses.size(); ++di) {
    const DefenseEntry& d = spec_.defenses[di];
    if (auto it = stored_rows.find(d.id); it != stored_rows.end()) {
      rows.push_back(it->second);
      continue;
    }
    stop_point(group_);
    const auto start = Clock::now();
    DefenseRecord drec;
    drec.options = d.options;
    MatrixRow row;
    try {
      const int64_t n_clean = clean_extra_size(d.defense->clean_fraction(), train.size());
      // The defender's clean extra data: a seeded subset of the CLEAN training set.
      Dataset clean_extra = train.subset(order.narrow(0, 0, n_clean));
      DefenseResult result;
      BackdoorMetrics after = before;
      if (d.defense->changes_model()) {
        Classifier purified = model->replicate();
        DefenseContext ctx{poisoned.data, clean_extra, spec_.training.augmentation, group_,
                           derive_seed(key.seed, "defense/" + d.id), eval_curve, progress_.callback(),
                           judge};
        result = d.defense->purify(*purified, ctx);
        after = evaluate_backdoor(*purified, test, attack, group_);
      }
      const double der = defense_effectiveness_rating(before.acc, before.asr, after.acc, after.asr);
      const double rir = robust_improvement_rating(before.acc, before.ra, after.acc, after.ra);
      drec.metrics = {{"acc", after.acc},
                      {"asr", after.asr},
                      {"ra", after.ra},
                      {"der", der},
                      {"rir", rir},
                      {"acc_denominator", static_cast<double>(after.acc_denominator)},
                      {"asr_denominator", static_cast<double>(after.asr_denominator)},
                      {"clean_extra_size", static_cast<double>(n_clean)}};
      drec.curve = to_columns(result.curve);
      drec.steps = result.steps;
      drec.neurons = result.neurons;
      drec.rows = result.rows;
      if (result.selected.defined()) {
        auto kept = torch::zeros({train.size()}, torch::kByte);
        kept.index_fill_(0, result.selected, 1);
        drec.selected = to_vector<uint8_t>(kept);
      }
      row = make_row(key, d.id, Status::kDone, "", 0);
      row.acc = after.acc;
      row.asr = after.asr;
      row.ra = after.ra;
      row.der = der;
      row.rir = rir;
      row.asr_denominator = after.asr_denominator;
      spdlog::info("cell {} seed {} defense {}: ACC {:.2f}% ASR {} DER {:.3f}", key.attack,
                   key.seed, d.id, 100 * after.acc, percent(after.asr), der);
    } catch (const RunError& e) {
      drec.status = Status::kFailed;
      drec.error = e.what();
      row = make_row(key, d.id, Status::kFailed, e.what(), 0);
      spdlog::error("cell {} seed {} defense {} failed: {}", key.attack, key.seed, d.id, e.what());
    }
    drec.seconds = row.seconds = since(start);
    if (store_) {  // one unit: the defense's record and its /matrix row
      store_->commit([&](ResultWriter& w) {
        w.write_defense(key, d.id, drec);
        w.append_matrix_row(row);
      });
    }
    rows.push_back(row);
  }
  // Every unit of the cell is in the results file: its checkpoint is not needed again (a clean
  // model's is, for other cells' probes, until the run ends).
  if (group_.rank() == 0 && !attack.is_clean()) std::filesystem::remove(checkpoint_path(key.attack, key.seed, ".pt"));
  return rows;
}

}  // namespace pbe
