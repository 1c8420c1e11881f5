#pragma once
// /matrix in HDF5: its compound type, and rows packed into (and out of) that type's memory
// layout, all derived from MatrixRow::columns.
#include <hdf5.h>

#include <string>
#include <vector>

#include "storage/h5.h"
#include "storage/records.h"

namespace pbe::h5 {

// The compound type of /matrix rows in memory: a member per column, strings as vlen UTF-8. With
// `file_type`, only the columns that type has (reading a file an older version wrote), at the
// same offsets.
Handle matrix_row_type(hid_t file_type = H5I_INVALID_HID);
// `rows` in matrix_row_type()'s layout; its strings point into `rows`, which must outlive it.
std::vector<unsigned char> pack_rows(const std::vector<MatrixRow>& rows);
std::vector<unsigned char> pack_rows(std::vector<MatrixRow>&& rows) = delete;  // would dangle
// `n` default rows with null strings: the buffer H5Dread fills, so that columns the file lacks
// stay at their defaults (read with H5Pset_preserve).
std::vector<unsigned char> default_rows(size_t n);
// Rows from `n` rows of matrix_row_type()'s layout, read into default_rows(n) (the caller reclaims
// the vlen strings). StorageError naming `context` for a status neither "done" nor "failed".
std::vector<MatrixRow> unpack_rows(const std::vector<unsigned char>& packed, size_t n, const std::string& context);
// The JSON the root attribute `schema` holds: {"version": N, "matrix": [{"name", "type", "kind",
// "doc"}, ...]} in column order; types are "string", "int32", "int64", "float64".
std::string schema_json();

}  // namespace pbe::h5
