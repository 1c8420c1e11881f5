#pragma once
// What the ResultStore writes, as plain data (no LibTorch): the launcher fills these from core/.
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "util/columns.h"

namespace pbe {

inline constexpr int kResultsSchemaVersion = 1;

using NamedValues = std::vector<std::pair<std::string, double>>;
using NamedStrings = std::vector<std::pair<std::string, std::string>>;

// One cell of the matrix: dataset x model x attack x seed.
struct CellKey {
  std::string dataset, model, attack;
  int seed = 0;
  // /cells/<dataset>/<model>/<attack>/seed<k>
  std::string group_path() const;
};

enum class Status { kDone, kFailed };
std::string to_string(Status status);

struct Provenance {
  std::string version, git_revision, command_line;
  int ranks = 1;
  std::vector<std::string> hosts;  // one per rank
  NamedStrings libraries;          // name -> version
  NamedStrings compute;            // device, backend, precision, channels_last, threads_per_rank
  std::string start_time;          // ISO 8601 UTC
};

// A named float array that defines an attack's trigger (pattern, mask, warp grid, generator
// weights), stored under attack/trigger/<name>.
struct Artifact {
  std::string name;             // May contain '/' (e.g. "generator/conv1.weight").
  std::vector<uint64_t> shape;
  std::vector<float> values;    // Row-major, product(shape) values.
};

// The observation probes on one model ("infected", or "clean": the same seed's clean model with
// this attack's trigger), stored under attack/probes/<model>.
struct ProbeRecord {
  std::string model;
  NamedValues values;            // target_fraction, clean_flip, distances, overlaps, samples
  std::vector<float> confusion;  // [classes, classes]: true label x adversarial prediction
  int64_t classes = 0;
  // Activation dumps, "<clean|triggered|adversarial>/<layer>" [rows, ...], of the test rows
  // `dump_rows` (true labels `dump_labels`); stored under activations/.
  std::vector<Artifact> activations;
  std::vector<double> dump_rows, dump_labels;
};

struct AttackRecord {
  Status status = Status::kDone;
  std::string error;
  double seconds = 0;
  NamedStrings options;          // the attack's options as given
  NamedValues metrics;           // acc, asr, ra, *_denominator
  Columns curve;
  std::vector<uint8_t> poison_mask;  // 1 = poisoned training row
  std::vector<Artifact> trigger;      // Empty for the clean model.
  std::vector<ProbeRecord> probes;    // Empty for the clean model or with probes off.
};

struct DefenseRecord {
  Status status = Status::kDone;
  std::string error;
  double seconds = 0;
  NamedStrings options;
  NamedValues metrics;  // acc, asr, ra, der, rir, *_denominator
  Columns curve;
  Columns steps;                  // Per-step records (see DefenseResult::steps); may be empty.
  Columns neurons;                // Per-neuron records (ANP's masks); may be empty.
  Columns rows;                   // Per-training-row records (PBE's filter scores); may be empty.
  std::vector<uint8_t> selected;  // Training rows a data-filtering defense kept (1 = kept); may be empty.
};

// One row of /matrix: a cell under one defense.
struct MatrixRow {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::string dataset, model, attack;
  int32_t seed = 0;
  std::string defense, status, error;
  double acc = kNaN, asr = kNaN, ra = kNaN, der = kNaN, rir = kNaN;
  int64_t asr_denominator = 0;
  double seconds = 0;
};

}  // namespace pbe
