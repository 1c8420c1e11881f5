#pragma once
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/records.h"
#include "storage/result_writer.h"

namespace pbe {

// Keeps other processes' commits out while held: a lock the job's ranks share (launcher's, over
// MPI). Empty functions: one writing process, no lock needed.
struct CommitLock {
  std::function<void()> lock, unlock;
};

// The results file, written in units of work. No process keeps it open. A commit copies the file,
// writes the unit into the copy, closes and fsyncs it, and renames it over the file (then fsyncs
// the directory). A kill at any moment therefore leaves the file as it was before the unit or
// after it, never half-written (HDF5 1.10 has no journal of its own), and readers (h5py, h5dump)
// can open it while a job runs: they see the last finished unit. docs/results-format.md explains
// the choice. Throws StorageError naming the file.
class ResultStore {
 public:
  // Creates `path` (and its directory) holding the header (ResultWriter::write_header), atomically.
  // An existing file is refused, and left as it was, unless `overwrite`.
  static std::unique_ptr<ResultStore> create(const std::string& path, bool overwrite, const std::string& spec_text,
                                             const Provenance& provenance);
  // An existing results file, to commit more units to. StorageError if it is not one.
  static std::unique_ptr<ResultStore> open(const std::string& path);
  // Removes the commit copies killed processes left next to `path` (call only while no job writes it).
  static void remove_stale_commit_copies(const std::string& path);

  const std::string& path() const { return path_; }
  void set_commit_lock(CommitLock lock) { lock_ = std::move(lock); }
  // One unit of work: everything `write` writes reaches the file, or (an exception, a kill)
  // nothing does.
  void commit(const std::function<void(ResultWriter&)>& write);

 private:
  explicit ResultStore(std::string path) : path_(std::move(path)) {}
  std::string path_;
  CommitLock lock_;
};

// Whether `path` holds a pbe-dist results file this pbe_dist reads: "" if so, else the problem
// ("not an HDF5 file (truncated or corrupt?)", "no /matrix table: ...", "schema version 3; this
// pbe_dist reads 1 to 2").
std::string results_file_problem(const std::string& path);
// StorageError "<path>: <problem>" unless results_file_problem(path) is "".
void check_results_file(const std::string& path);
// Reads /matrix back (storage's own reader; analysis/ and tests use it). Throws StorageError.
std::vector<MatrixRow> read_matrix(const std::string& path);

// A unit's state in a results file.
struct StoredUnit {
  Status status = Status::kDone;
  std::string error;
  double acc = std::nan(""), asr = std::nan("");  // Its metrics (NaN when absent).
  std::string model_key;  // Its victim's key in the model store ("" without one, or in older files).
};
// What a results file holds (--resume, inspect, merge): the spec that started it, each cell's
// attack unit (keyed by CellKey::group_path()) and the /matrix rows (one per finished defense).
struct StoredResults {
  std::string spec_text;
  std::map<std::string, StoredUnit> attacks;
  std::vector<MatrixRow> rows;
};
StoredResults read_stored_results(const std::string& path);
// The file's /spec text ("" when it has none); StorageError for a file that does not open.
std::string read_spec_text(const std::string& path);

// Every 1-D numeric dataset of the group `group` (e.g. a defense's "steps", or an attack's
// poison_mask), by name, as float64; subgroups and other datasets are skipped; empty when the
// group is absent.
Columns read_columns(const std::string& path, const std::string& group);
// The scalar attributes of the group (e.g. a probe record), by name; empty when it is absent.
NamedValues read_values(const std::string& path, const std::string& group);

}  // namespace pbe
