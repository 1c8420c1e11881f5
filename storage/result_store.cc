#include "storage/result_store.h"

#include <unistd.h>

#include <filesystem>

#include "storage/h5.h"
#include "storage/matrix_table.h"
#include "storage/storage_error.h"
#include "util/atomic_file.h"
#include "util/file_env.h"
#include "util/memory.h"

namespace pbe {
namespace fs = std::filesystem;
namespace {

// Data and metadata of `path` on disk (a directory: its entries); StorageError when it fails.
void sync(const std::string& path) {
  try {
    sync_path(path);
  } catch (const std::runtime_error& e) {
    throw StorageError(e.what());
  }
}

// The copies commits write: one name per process, next to the file (util/atomic_file.h).
constexpr const char* kCommitTag = "commit";
std::string commit_copy(const std::string& path) { return temporary_path_for(path, kCommitTag); }

// Writes `write` into the file `copy` (opened read-write) and closes it.
void write_into(const std::string& copy, const std::string& context, const std::function<void(ResultWriter&)>& write) {
  h5::Handle f = h5::checked(H5Fopen(copy.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), context, "open the commit copy");
  ResultWriter writer(f, context);
  write(writer);
  h5::check(H5Fclose(f.release()), context, "close the commit copy");
}

}  // namespace

std::string results_file_problem(const std::string& path) {
  h5::silence_library_errors();
  if (!fs::is_regular_file(path)) return "file not found";
  if (H5Fis_hdf5(path.c_str()) <= 0) return "not an HDF5 file (truncated or corrupt?)";
  h5::Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (f < 0) return "cannot open as HDF5 (truncated or corrupt?)";
  if (H5Lexists(f, "matrix", H5P_DEFAULT) <= 0) return "no /matrix table: not a pbe-dist results file";
  int64_t version = -1;
  if (H5Aexists(f, "schema_version") > 0) {
    h5::Handle a(H5Aopen(f, "schema_version", H5P_DEFAULT));
    h5::Handle space(a < 0 ? H5I_INVALID_HID : H5Aget_space(a));
    if (space < 0 || H5Sget_simple_extent_npoints(space) != 1 || H5Aread(a, H5T_NATIVE_INT64, &version) < 0)
      version = -1;
  }
  if (version < kOldestReadableSchemaVersion || version > kResultsSchemaVersion)
    return "schema version " + std::to_string(version) + "; this pbe_dist reads " +
           std::to_string(kOldestReadableSchemaVersion) + " to " + std::to_string(kResultsSchemaVersion);
  return "";
}

void check_results_file(const std::string& path) {
  if (const std::string problem = results_file_problem(path); !problem.empty()) throw StorageError(path + ": " + problem);
}

std::unique_ptr<ResultStore> ResultStore::create(const std::string& path, bool overwrite, const std::string& spec_text,
                                                 const Provenance& provenance) {
  h5::silence_library_errors();
  if (fs::exists(path) && !overwrite)
    throw StorageError(path + ": results file exists; pass --overwrite to replace it, --resume to finish it, or "
                              "choose another output (-o)");
  std::error_code ec;
  const std::string dir = directory_of(path);
  fs::create_directories(dir, ec);
  if (ec) throw StorageError(path + ": cannot create directory " + dir + ": " + ec.message());
  const std::string copy = commit_copy(path);
  try {
    {
      h5::Handle f(H5Fcreate(copy.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
      if (f < 0) throw StorageError(path + ": cannot create results file (directory writable?)");
    }
    write_into(copy, path, [&](ResultWriter& w) { w.write_header(spec_text, provenance); });
    sync(copy);
    if (overwrite) {
      file_env().rename(copy, path);
    } else if (::link(copy.c_str(), path.c_str()) != 0) {  // fails if the file appeared meanwhile
      throw StorageError(path + ": results file exists; pass --overwrite to replace it or choose another output (-o)");
    }
    fs::remove(copy);
    sync(dir);
  } catch (...) {
    fs::remove(copy, ec);
    throw;
  }
  return std::unique_ptr<ResultStore>(new ResultStore(path));
}

std::unique_ptr<ResultStore> ResultStore::open(const std::string& path) {
  check_results_file(path);
  return std::unique_ptr<ResultStore>(new ResultStore(path));
}

void ResultStore::remove_stale_commit_copies(const std::string& path) { remove_temporaries(path, kCommitTag); }

void ResultStore::commit(const std::function<void(ResultWriter&)>& write) {
  struct Held {
    const CommitLock& l;
    explicit Held(const CommitLock& lock) : l(lock) { if (l.lock) l.lock(); }
    ~Held() { if (l.unlock) l.unlock(); }
  } held(lock_);
  try {
    write_atomically(
        path_,
        [&](const std::string& copy) {
          file_env().copy_file(path_, copy);
          write_into(copy, path_, write);
        },
        kCommitTag);
  } catch (const StorageError& e) {  // a unit that cannot be written ends the run (exit 1)
    throw StorageError(e.what(), kExitRunFailure);
  } catch (const std::runtime_error& e) {  // the copy, the rename or an fsync (filesystem_error is one)
    throw StorageError(path_ + ": commit failed: " + e.what(), kExitRunFailure);
  }
}

std::vector<MatrixRow> read_matrix(const std::string& path) {
  check_results_file(path);
  h5::Handle f = h5::checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "open");
  h5::Handle ds = h5::checked(H5Dopen2(f, "matrix", H5P_DEFAULT), path, "open /matrix");
  h5::Handle file_type = h5::checked(H5Dget_type(ds), path, "/matrix get type");
  h5::Handle space = h5::checked(H5Dget_space(ds), path, "/matrix get space");
  if (H5Tget_class(file_type) != H5T_COMPOUND || H5Sget_simple_extent_ndims(space) != 1)
    throw StorageError(path + ": /matrix is not a table (a 1-D dataset of compound rows)");
  h5::Handle type = h5::matrix_row_type(file_type);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  if (n == 0) return {};
  if (const std::string problem = memory_problem(static_cast<double>(n) * static_cast<double>(H5Tget_size(type)),
                                                 "/matrix's " + std::to_string(n) + " rows");
      !problem.empty())
    throw StorageError(path + ": " + problem);
  // Columns an older file lacks are not in `type`: they keep default_rows' values, which the
  // preserved background buffer keeps.
  std::vector<unsigned char> raw = h5::default_rows(n);
  h5::Handle transfer = h5::checked(H5Pcreate(H5P_DATASET_XFER), path, "H5Pcreate");
  h5::check(H5Pset_preserve(transfer, 1), path, "H5Pset_preserve");
  h5::check(H5Dread(ds, type, H5S_ALL, H5S_ALL, transfer, raw.data()), path, "read /matrix");
  struct Reclaim {
    hid_t type, space;
    void* data;
    ~Reclaim() { H5Dvlen_reclaim(type, space, H5P_DEFAULT, data); }
  } reclaim{type, space, raw.data()};
  return h5::unpack_rows(raw, n, path);
}

StoredResults read_stored_results(const std::string& path) {
  StoredResults out;
  out.rows = read_matrix(path);  // checks the file first
  h5::Handle f = h5::checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "open");
  out.spec_text = h5::exists(f, "spec") ? h5::read_string_dataset(f, "spec", path) : "";
  if (!h5::exists(f, "cells")) return out;
  h5::Handle cells = h5::checked(H5Gopen2(f, "cells", H5P_DEFAULT), path, "open /cells");
  // Every link named .../attack under /cells: <dataset>/<model>/<attack>/seed<k>/attack.
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    const std::string n(name);
    if (n.size() > 7 && n.compare(n.size() - 7, 7, "/attack") == 0) static_cast<std::vector<std::string>*>(data)->push_back(n);
    return 0;
  };
  h5::check(H5Lvisit(cells, H5_INDEX_NAME, H5_ITER_NATIVE, collect, &names), path, "list /cells");
  for (const auto& n : names) {
    h5::Handle g = h5::checked(H5Gopen2(cells, n.c_str(), H5P_DEFAULT), path, "open attack group");
    StoredUnit u;
    const std::string status = h5::read_string_attr(g, "status", path);
    if (!parse_status(status, u.status))
      throw StorageError(path + ": /cells/" + n + ": status \"" + status + "\" is neither \"done\" nor \"failed\"");
    u.error = h5::read_string_attr(g, "error", path);
    if (H5Aexists(g, "model_key") > 0) u.model_key = h5::read_string_attr(g, "model_key", path);
    if (H5Lexists(g, "metrics", H5P_DEFAULT) > 0) {
      h5::Handle m = h5::checked(H5Gopen2(g, "metrics", H5P_DEFAULT), path, "open attack metrics");
      if (H5Aexists(m, "acc") > 0) u.acc = h5::read_double_attr(m, "acc", path);
      if (H5Aexists(m, "asr") > 0) u.asr = h5::read_double_attr(m, "asr", path);
    }
    out.attacks["/cells/" + n.substr(0, n.size() - 7)] = u;
  }
  return out;
}

std::string read_spec_text(const std::string& path) {
  h5::Handle f = h5::checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "open");
  return h5::exists(f, "spec") ? h5::read_string_dataset(f, "spec", path) : "";
}

namespace {

// Opens `group` in the file, or an invalid handle when it is absent.
h5::Handle open_group(hid_t file, const std::string& group, const std::string& path) {
  if (!h5::exists(file, group)) return h5::Handle();
  return h5::checked(H5Gopen2(file, group.c_str(), H5P_DEFAULT), path, "open group");
}

}  // namespace

Columns read_columns(const std::string& path, const std::string& group) {
  Columns out;
  h5::Handle f = h5::checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "open");
  h5::Handle g = open_group(f, group, path);
  if (g < 0) return out;
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->push_back(name);
    return 0;
  };
  h5::check(H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), path, "list group");
  for (const auto& name : names) {
    h5::Handle ds = h5::checked(H5Oopen(g, name.c_str(), H5P_DEFAULT), path, "open column");
    if (H5Iget_type(ds) != H5I_DATASET) continue;  // a subgroup
    h5::Handle type = h5::checked(H5Dget_type(ds), path, "column type");
    if (H5Tget_class(type) != H5T_FLOAT && H5Tget_class(type) != H5T_INTEGER) continue;
    h5::Handle space = h5::checked(H5Dget_space(ds), path, "column space");
    if (H5Sget_simple_extent_ndims(space) != 1) continue;
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space, &n, nullptr);
    if (const std::string problem = memory_problem(8.0 * static_cast<double>(n), std::to_string(n) + " values");
        !problem.empty())
      throw StorageError(path + ": " + group + "/" + name + ": " + problem);
    std::vector<double> values(n);
    if (n > 0) h5::check(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), path, "read column");
    out.emplace_back(name, std::move(values));
  }
  return out;
}

NamedValues read_values(const std::string& path, const std::string& group) {
  NamedValues out;
  h5::Handle f = h5::checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "open");
  h5::Handle g = open_group(f, group, path);
  if (g < 0) return out;
  H5O_info_t info;
  h5::check(H5Oget_info(g, &info), path, "group info");
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    h5::Handle a = h5::checked(H5Aopen_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT), path,
                               "open attribute");
    h5::Handle type = h5::checked(H5Aget_type(a), path, "attribute type");
    if (H5Tget_class(type) != H5T_FLOAT && H5Tget_class(type) != H5T_INTEGER) continue;
    h5::Handle space = h5::checked(H5Aget_space(a), path, "attribute space");
    if (H5Sget_simple_extent_npoints(space) != 1) continue;  // not a scalar
    char name[256] = {};
    H5Aget_name(a, sizeof name, name);
    double v = 0;
    h5::check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), path, "read attribute");
    out.emplace_back(name, v);
  }
  return out;
}

}  // namespace pbe
