#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/records.h"

namespace pbe {

// The results file (layout: docs/results-format.md). One writer (rank 0) owns it; every write
// call is flushed to disk before it returns, so a finished unit of work survives a later crash.
class ResultStore {
 public:
  // Creates `path` (and its directory). An existing file is refused unless `overwrite`.
  // Throws StorageError naming the file.
  static std::unique_ptr<ResultStore> create(const std::string& path, bool overwrite);
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  const std::string& path() const { return path_; }
  void write_spec(const std::string& yaml_text);
  void write_provenance(const Provenance& provenance);
  void write_end_time(const std::string& iso_time);
  void write_attack(const CellKey& cell, const AttackRecord& record);
  void write_defense(const CellKey& cell, const std::string& defense, const DefenseRecord& record);
  void append_matrix_row(const MatrixRow& row);
  // Copies cell `cell`'s group (attack and defenses, whole) from another results file, e.g. the
  // part a group of ranks wrote. Its /matrix rows are not copied (append them in the order wanted).
  void copy_cell(const std::string& from_path, const CellKey& cell);

 private:
  ResultStore(std::string path, int64_t file_id);
  void flush();
  std::string path_;
  int64_t file_ = -1;    // hid_t (int64_t in HDF5 >= 1.10), kept out of this header
  int64_t matrix_ = -1;  // the /matrix dataset
};

// Reads /matrix back (storage's own reader; analysis/ and tests use it). Throws StorageError.
std::vector<MatrixRow> read_matrix(const std::string& path);

}  // namespace pbe
