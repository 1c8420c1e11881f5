#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "storage/records.h"

namespace pbe {

// Writes records into one open results file (layout: docs/results-format.md). ResultStore hands
// one out for the length of a commit; nothing else opens results files for writing.
class ResultWriter {
 public:
  ResultWriter(int64_t file_id, std::string context);
  ~ResultWriter();
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  // The file's header: producer, the spec's text, provenance, an empty /matrix.
  void write_header(const std::string& spec_text, const Provenance& provenance);
  void write_end_time(const std::string& iso_time);
  void write_attack(const CellKey& cell, const AttackRecord& record);
  void write_defense(const CellKey& cell, const std::string& defense, const DefenseRecord& record);
  // Writing /matrix also writes the layout it follows, so a file started by an older pbe_dist
  // (a readable schema version) is brought to this one's: root attributes schema_version and
  // schema (h5::schema_json). Appending to a /matrix that lacks columns is a StorageError
  // (set_matrix rewrites it whole: what `pbe_dist merge` does).
  void append_matrix_row(const MatrixRow& row);
  // Replaces /matrix with `rows` (reordering it).
  void set_matrix(const std::vector<MatrixRow>& rows);
  // Copies the object (group or dataset) at `object_path` of the results file `from_path` to the
  // same path here, creating missing parent groups (merging the results of separate jobs). False,
  // copying nothing, when `from_path` has no such object.
  bool copy_object(const std::string& from_path, const std::string& object_path);
  bool has_object(const std::string& object_path) const;
  // /provenance attr merged_from: the files `pbe_dist merge` joined.
  void write_merged_from(const std::vector<std::string>& paths);

 private:
  void write_schema();
  int64_t file_;  // hid_t (int64_t in HDF5 >= 1.10), kept out of this header; not owned
  std::string ctx_;
};

}  // namespace pbe
