#pragma once
// ExperimentSpec: a validated, typed YAML spec. Built only by parse_spec() (spec_parser.cc).
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/attacks/attack.h"
#include "core/data/dataset_source.h"
#include "core/defenses/defense.h"
#include "core/probes/observation.h"
#include "core/training/trainer.h"
#include "storage/records.h"

namespace pbe {

// The compute settings, each spelled in specs and in /provenance/compute as its names() list says.
enum class Device { kCpu, kCuda };
enum class BackendChoice { kAuto, kMpi, kNccl };
enum class Precision { kFp32, kTf32, kBf16 };
template <class E>
using EnumNames = std::vector<std::pair<const char*, E>>;
const EnumNames<Device>& names(Device);
const EnumNames<BackendChoice>& names(BackendChoice);
const EnumNames<Precision>& names(Precision);
// `value`'s name in names(value).
template <class E>
std::string to_string(E value) {
  for (const auto& [name, e] : names(value))
    if (e == value) return name;
  return "unknown";
}

struct AttackEntry {
  std::string id;                       // Unique in the spec; the cell's attack name.
  // A fresh attack per cell (attacks keep per-cell state: optimised triggers, generators).
  std::function<std::unique_ptr<Attack>()> make;
  std::shared_ptr<const Attack> prototype;  // Built once at parse time: validation, planning.
  NamedStrings options;                 // Effective options (defaults filled), for the record.
};

struct DefenseEntry {
  std::string id;
  std::shared_ptr<const Defense> defense;
  NamedStrings options;
};

struct ExperimentSpec {
  std::string file;        // Where the spec came from.
  std::string text;        // The YAML as written (stored in the results).
  std::string name;
  std::string output;      // Results file. Default: results/<name>.h5
  // The model store (core/training/model_store.h): "auto" = <the output's folder>/models, "none"
  // = every victim is trained, or a folder.
  std::string model_store = "auto";
  int threads = 0;         // Intra-op threads per rank; 0 = cores on this host / ranks on this host.
  // Ranks that work on one cell together; the world splits into groups of this size, each taking
  // the next cell as it finishes. 0 = all ranks form one group. Must divide the rank count.
  int ranks_per_cell = 0;
  // Where each rank computes: cpu, or cuda (GPU local_rank of its host; World::local_gpu()).
  Device device = Device::kCpu;
  // Collectives: auto (nccl on cuda when built in, mpi otherwise), mpi or nccl (cuda only).
  BackendChoice backend = BackendChoice::kAuto;
  // fp32 (IEEE float32 on GPUs too), tf32 (float32 convolutions and matrix products on TF32
  // tensor cores; the CPU is unaffected), or bf16: every pass runs under bf16 autocast on the
  // device (weights stay float32).
  Precision precision = Precision::kFp32;
  bool channels_last = false;  // Convolution weights laid out NHWC (GPU tensor cores).
  DatasetOptions dataset;
  std::string model = "small-cnn";
  int model_width = 0;  // 0 = the model's default
  TrainOptions training;   // training.augmentation is the dataset's unless the spec overrides it.
  // Per-epoch curves evaluate on this many test images (a fixed seeded subset; 0 = all). The
  // final metrics always use the whole test set. Default: 2000
  int64_t curve_test_samples = 2000;
  // The observation probes run on every infected model (and the same seed's clean model, when
  // the clean row "none" ran earlier in the spec); samples 0 turns them off.
  ProbeOptions probes;
  std::vector<AttackEntry> attacks;
  std::vector<DefenseEntry> defenses;
  std::vector<int> seeds{0};
};

// Reads and validates a spec. Any problem throws ConfigError "<file>:<line>: <key>: <problem>".
ExperimentSpec parse_spec_file(const std::string& path);
ExperimentSpec parse_spec_text(const std::string& text, const std::string& file);

}  // namespace pbe
