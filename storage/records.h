#pragma once
// What the ResultStore writes, as plain data (no LibTorch): the launcher fills these from core/.
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "util/columns.h"

namespace pbe {

// The results file's layout version (docs/results-format.md). 2 added the root attribute
// `schema`; this pbe_dist reads files from kOldestReadableSchemaVersion on.
inline constexpr int kResultsSchemaVersion = 2;
inline constexpr int kOldestReadableSchemaVersion = 1;

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
// The Status `text` names ("done", "failed"); false for any other text.
bool parse_status(const std::string& text, Status& status);

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
  std::string model_source = "trained";  // trained, or store: taken from the model store
  std::string model_key;                 // The model store's key; "" without a store
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

// What a /matrix column holds, for readers: part of the unit's key, its outcome, a metric (a
// fraction in [0, 1], NaN where undefined), or a detail (a denominator, the time taken).
enum class ColumnKind { kKey, kOutcome, kMetric, kDetail };
std::string to_string(ColumnKind kind);

// One row of /matrix: a cell under one defense. `columns` declares the columns, in file order, each
// once: the HDF5 compound type, the writer and the reader (storage/matrix_table.cc) and the file's
// `schema` attribute, which figures.py and the Python checks read, all come from it. A new column
// is a member, its line in `columns`, and kResultsSchemaVersion + 1 (files without it still read:
// the reader leaves the member at its default).
struct MatrixRow {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::string dataset, model, attack;
  int32_t seed = 0;
  std::string defense;
  Status status = Status::kDone;
  std::string error;
  double acc = kNaN, asr = kNaN, ra = kNaN, der = kNaN, rir = kNaN;
  int64_t asr_denominator = 0;
  double seconds = 0;

  // Calls column(name, member, kind, doc) for each column; Row is MatrixRow or const MatrixRow.
  template <class Row, class Visitor>
  static void columns(Row& r, Visitor&& column) {
    using K = ColumnKind;
    column("dataset", r.dataset, K::kKey, "the spec's dataset name");
    column("model", r.model, K::kKey, "the spec's model name");
    column("attack", r.attack, K::kKey, "the spec's attack id; `none` = the clean model");
    column("seed", r.seed, K::kKey, "the run seed");
    column("defense", r.defense, K::kKey, "the spec's defense id; `none` = the model before any defense");
    column("status", r.status, K::kOutcome, "`done` or `failed` (`error` says why)");
    column("error", r.error, K::kOutcome, "empty when done");
    column("acc", r.acc, K::kMetric, "clean accuracy on the test set");
    column("asr", r.asr, K::kMetric, "attack success rate; NaN without a trigger (the clean model)");
    column("ra", r.ra, K::kMetric, "robust accuracy: triggered test images given their true label; NaN without a trigger");
    column("der", r.der, K::kMetric, "defense effectiveness rating against the cell's `none` row; NaN where ASR is undefined");
    column("rir", r.rir, K::kMetric, "robust improvement rate against the cell's `none` row; NaN where RA is undefined");
    column("asr_denominator", r.asr_denominator, K::kDetail,
           "triggered test images counted for ASR and RA (all-to-one excludes the target class)");
    column("seconds", r.seconds, K::kDetail, "wall time of the defense including its evaluation");
  }
};

}  // namespace pbe
