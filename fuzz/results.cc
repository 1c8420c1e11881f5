// The readers behind `report`, `inspect`, `merge` and `--resume`, fed HDF5 files that are valid
// HDF5 but anything for us. The input drives how the file is made (structure-aware, so that the
// fuzzer reaches the readers rather than HDF5's superblock checks): the root's schema_version,
// /matrix with the real columns (some missing, some of another type, any row count, NaN and
// infinite values), /spec as a string, a number or an array, and /cells attack units whose
// attributes and columns have any type and shape, extents far beyond memory included. A reader
// may refuse the file (pbe::Error); a crash, a sanitizer report, a leak or any other exception is
// a finding.
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include "storage/h5.h"
#include "storage/matrix_table.h"
#include "storage/result_store.h"
#include "util/error.h"

namespace {

using pbe::h5::Handle;
using Pool = std::deque<std::string>;  // the strings a write points to (a deque never moves them)

enum class Kind { kInt32, kInt64, kDouble, kString, kFixedString };

Handle make_type(Kind kind, FuzzedDataProvider& in) {
  switch (kind) {
    case Kind::kInt32: return Handle(H5Tcopy(H5T_NATIVE_INT32));
    case Kind::kInt64: return Handle(H5Tcopy(H5T_NATIVE_INT64));
    case Kind::kDouble: return Handle(H5Tcopy(H5T_NATIVE_DOUBLE));
    case Kind::kString: return pbe::h5::variable_string_type();
    case Kind::kFixedString: {
      Handle t(H5Tcopy(H5T_C_S1));
      H5Tset_size(t, in.ConsumeIntegralInRange<size_t>(1, 16));
      return t;
    }
  }
  return Handle();
}

Kind any_kind(FuzzedDataProvider& in) { return static_cast<Kind>(in.ConsumeIntegralInRange(0, 4)); }

double any_double(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0: return std::nan("");
    case 1: return std::numeric_limits<double>::infinity();
    case 2: return -std::numeric_limits<double>::max();
    default: return in.ConsumeFloatingPoint<double>();
  }
}

// Element values of `type` for `n` elements, in memory: the strings live in `pool`.
std::vector<unsigned char> values(hid_t type, size_t n, FuzzedDataProvider& in, Pool& pool) {
  const size_t size = H5Tget_size(type);
  std::vector<unsigned char> out(n * size);
  for (size_t i = 0; i < n; ++i) {
    unsigned char* at = out.data() + i * size;
    if (H5Tis_variable_str(type) > 0) {
      pool.push_back(in.ConsumeRandomLengthString(64));
      const char* p = pool.back().c_str();
      std::memcpy(at, &p, sizeof p);
    } else if (H5Tget_class(type) == H5T_STRING) {
      const std::string s = in.ConsumeBytesAsString(size);
      std::memcpy(at, s.data(), s.size());
    } else if (H5Tget_class(type) == H5T_FLOAT) {
      const double v = any_double(in);
      std::memcpy(at, &v, sizeof v);
    } else if (size == 4) {
      const int32_t v = in.ConsumeIntegral<int32_t>();
      std::memcpy(at, &v, sizeof v);
    } else {
      const int64_t v = in.ConsumeIntegral<int64_t>();
      std::memcpy(at, &v, sizeof v);
    }
  }
  return out;
}

// A scalar, a short vector, a small matrix, or (datasets only) a vector larger than any machine's memory
// that is never written.
struct Shape {
  std::vector<hsize_t> dims;  // empty: scalar
  bool huge = false;
  size_t points() const {
    size_t n = 1;
    for (hsize_t d : dims) n *= d;
    return n;
  }
};

Shape any_shape(FuzzedDataProvider& in, bool allow_huge) {
  switch (in.ConsumeIntegralInRange(0, allow_huge ? 3 : 2)) {
    case 0: return {};
    case 1: return {{in.ConsumeIntegralInRange<hsize_t>(0, 6)}};
    case 2: return {{in.ConsumeIntegralInRange<hsize_t>(1, 3), in.ConsumeIntegralInRange<hsize_t>(1, 3)}};
    default: return {{hsize_t{1} << in.ConsumeIntegralInRange(40, 50)}, true};  // 8 TiB and more as doubles
  }
}

Handle make_space(const Shape& s) {
  if (s.dims.empty()) return Handle(H5Screate(H5S_SCALAR));
  return Handle(H5Screate_simple(static_cast<int>(s.dims.size()), s.dims.data(), nullptr));
}

// A dataset of `type` and `shape` named `name` under `parent`, with data unless it is huge.
void put_dataset(hid_t parent, const char* name, hid_t type, const Shape& shape, FuzzedDataProvider& in) {
  Handle space = make_space(shape);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (shape.huge) {
    const hsize_t chunk = 1024;
    H5Pset_chunk(dcpl, 1, &chunk);
  }
  Handle ds(H5Dcreate2(parent, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  if (ds < 0 || shape.huge) return;
  Pool pool;
  const auto data = values(type, shape.points(), in, pool);
  if (!data.empty()) H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data());
}

void put_any_dataset(hid_t parent, const char* name, FuzzedDataProvider& in) {
  Handle type = make_type(any_kind(in), in);
  put_dataset(parent, name, type, any_shape(in, true), in);
}

// An attribute `name` of any kind and small shape; `usual` (a string or a double of the right
// shape, as the writer makes it) is taken when the input says so.
void put_attr(hid_t obj, const char* name, Kind usual, FuzzedDataProvider& in) {
  const bool as_written = in.ConsumeBool();
  Handle type = make_type(as_written ? usual : any_kind(in), in);
  const Shape shape = as_written ? Shape{} : any_shape(in, false);
  Handle space = make_space(shape);
  Handle attr(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (attr < 0) return;
  Pool pool;
  if (as_written && usual == Kind::kString && in.ConsumeBool()) {
    pool.push_back(in.ConsumeBool() ? "done" : "failed");
    const char* p = pool.back().c_str();
    H5Awrite(attr, type, &p);
    return;
  }
  const auto data = values(type, shape.points(), in, pool);
  if (!data.empty()) H5Awrite(attr, type, data.data());
}

// /matrix: a subset of the real columns, each of its own type or another, any number of rows.
void put_matrix(hid_t file, FuzzedDataProvider& in) {
  Handle real = pbe::h5::matrix_row_type();
  const int members = H5Tget_nmembers(real);
  std::vector<std::pair<std::string, Handle>> columns;
  size_t row_size = 0;
  for (int i = 0; i < members; ++i) {
    if (in.ConsumeIntegralInRange(0, 9) == 0) continue;  // a column the file lacks
    char* name = H5Tget_member_name(real, static_cast<unsigned>(i));
    Handle type = in.ConsumeIntegralInRange(0, 7) == 0 ? make_type(any_kind(in), in)
                                                        : Handle(H5Tget_member_type(real, static_cast<unsigned>(i)));
    row_size += H5Tget_size(type);
    columns.emplace_back(name, std::move(type));
    H5free_memory(name);
  }
  if (columns.empty()) {  // not a compound table at all
    put_any_dataset(file, "matrix", in);
    return;
  }
  Handle compound(H5Tcreate(H5T_COMPOUND, row_size));
  size_t offset = 0;
  for (const auto& [name, type] : columns) {
    H5Tinsert(compound, name.c_str(), offset, type);
    offset += H5Tget_size(type);
  }
  Shape shape = in.ConsumeIntegralInRange(0, 9) == 0 ? any_shape(in, true) : Shape{{in.ConsumeIntegralInRange<hsize_t>(0, 5)}};
  Handle space = make_space(shape);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (shape.huge) {
    const hsize_t chunk = 64;
    H5Pset_chunk(dcpl, 1, &chunk);
  }
  Handle ds(H5Dcreate2(file, "matrix", compound, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
  if (ds < 0 || shape.huge || shape.points() == 0) return;
  Pool pool;
  std::vector<unsigned char> rows(shape.points() * row_size);
  for (size_t r = 0; r < shape.points(); ++r) {
    size_t at = 0;
    for (const auto& [name, type] : columns) {
      std::vector<unsigned char> v;
      if (name == "status" && H5Tis_variable_str(type) > 0 && in.ConsumeBool()) {
        pool.push_back(in.ConsumeBool() ? "done" : "failed");
        const char* p = pool.back().c_str();
        v.resize(sizeof p);
        std::memcpy(v.data(), &p, sizeof p);
      } else {
        v = values(type, 1, in, pool);
      }
      std::memcpy(rows.data() + r * row_size + at, v.data(), v.size());
      at += H5Tget_size(type);
    }
  }
  H5Dwrite(ds, compound, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data());
}

// /cells/<dataset>/<model>/<attack>/seed<k>/{attack,defenses/<name>} units.
std::vector<std::string> put_cells(hid_t file, FuzzedDataProvider& in) {
  std::vector<std::string> groups;
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl, 1);
  const int cells = in.ConsumeIntegralInRange(0, 3);
  for (int c = 0; c < cells; ++c) {
    const std::string cell = "cells/d/m/" + in.ConsumeRandomLengthString(8) + "/seed" + std::to_string(c);
    const std::string attack = cell + "/attack";
    Handle g(H5Gcreate2(file, attack.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT));
    if (g < 0) continue;
    groups.push_back(attack);
    if (in.ConsumeIntegralInRange(0, 7) != 0) put_attr(g, "status", Kind::kString, in);
    if (in.ConsumeIntegralInRange(0, 7) != 0) put_attr(g, "error", Kind::kString, in);
    if (in.ConsumeBool()) {
      Handle m(H5Gcreate2(g, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      put_attr(m, "acc", Kind::kDouble, in);
      put_attr(m, "asr", Kind::kDouble, in);
      groups.push_back(attack + "/metrics");
    }
    const std::string steps = cell + "/defenses/" + in.ConsumeRandomLengthString(8) + "/steps";
    Handle s(H5Gcreate2(file, steps.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT));
    if (s < 0) continue;
    groups.push_back(steps);
    for (int k = in.ConsumeIntegralInRange(0, 3); k > 0; --k) put_any_dataset(s, ("c" + std::to_string(k)).c_str(), in);
  }
  return groups;
}

std::string scratch_path() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/pbe-fuzz-results-" + std::to_string(::getpid()) + ".h5";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  pbe::h5::silence_library_errors();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  static const std::string path = scratch_path();
  std::vector<std::string> groups;
  {
    Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    if (file < 0) return 0;
    if (in.ConsumeIntegralInRange(0, 7) != 0) {
      if (in.ConsumeBool()) {
        Handle space(H5Screate(H5S_SCALAR));
        Handle attr(H5Acreate2(file, "schema_version", H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT));
        const int64_t version = in.ConsumeIntegralInRange<int64_t>(0, 3);
        H5Awrite(attr, H5T_NATIVE_INT64, &version);
      } else {
        put_attr(file, "schema_version", Kind::kInt64, in);
      }
    }
    if (in.ConsumeIntegralInRange(0, 7) != 0) put_matrix(file, in);
    if (in.ConsumeBool()) {
      Handle type = in.ConsumeBool() ? pbe::h5::variable_string_type() : make_type(any_kind(in), in);
      put_dataset(file, "spec", type, in.ConsumeBool() ? Shape{} : any_shape(in, true), in);
    }
    groups = put_cells(file, in);
  }
  try {
    if (!pbe::results_file_problem(path).empty()) return 0;  // every command checks this first
    pbe::read_matrix(path);
    pbe::read_stored_results(path);
    pbe::read_spec_text(path);
    for (const auto& g : groups) {
      pbe::read_columns(path, g);
      pbe::read_values(path, g);
    }
  } catch (const pbe::Error&) {
    // a refusal: what the readers should do with a file like this
  }
  return 0;
}
