#pragma once
// The HDF5 compound type of /matrix rows, shared by the writer and the reader.
#include <hdf5.h>

#include <cstdint>

#include "storage/h5.h"
#include "storage/records.h"

namespace pbe::h5 {

// In-memory layout of one /matrix row (strings as char* for HDF5's vlen strings).
struct MatrixRowC {
  const char* dataset;
  const char* model;
  const char* attack;
  int32_t seed;
  const char* defense;
  const char* status;
  const char* error;
  double acc, asr, ra, der, rir;
  int64_t asr_denominator;
  double seconds;
};

Handle matrix_row_type();
MatrixRowC to_c(const MatrixRow& row);
MatrixRow from_c(const MatrixRowC& row);

}  // namespace pbe::h5
