#include "storage/result_store.h"

#include <filesystem>

#include "storage/h5.h"
#include "storage/matrix_table.h"
#include "storage/storage_error.h"

namespace pbe {
namespace fs = std::filesystem;

std::unique_ptr<ResultStore> ResultStore::create(const std::string& path, bool overwrite) {
  h5::silence_library_errors();
  if (fs::exists(path) && !overwrite)
    throw StorageError(path + ": results file exists; pass --overwrite to replace it or choose "
                              "another output (-o)");
  std::error_code ec;
  auto dir = fs::path(path).parent_path();
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec) throw StorageError(path + ": cannot create directory " + dir.string() + ": " + ec.message());
  hid_t f = H5Fcreate(path.c_str(), overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) throw StorageError(path + ": cannot create results file (directory writable?)");
  std::unique_ptr<ResultStore> store(new ResultStore(path, f));
  h5::write_attr(f, "schema_version", int64_t{kResultsSchemaVersion}, path);
  h5::write_attr(f, "producer", std::string("pbe-dist"), path);

  h5::Handle type = h5::matrix_row_type();
  hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = 64;
  h5::Handle space = h5::checked(H5Screate_simple(1, &zero, &unlimited), path, "H5Screate");
  h5::Handle dcpl = h5::checked(H5Pcreate(H5P_DATASET_CREATE), path, "H5Pcreate");
  H5Pset_chunk(dcpl, 1, &chunk);
  store->matrix_ = H5Dcreate2(f, "matrix", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (store->matrix_ < 0) throw StorageError(path + ": cannot create /matrix");
  store->flush();
  return store;
}

ResultStore::ResultStore(std::string path, int64_t file_id) : path_(std::move(path)), file_(file_id) {}

ResultStore::~ResultStore() {
  if (matrix_ >= 0) H5Dclose(matrix_);
  if (file_ >= 0) H5Fclose(file_);
}

void ResultStore::flush() { h5::check(H5Fflush(file_, H5F_SCOPE_GLOBAL), path_, "flush"); }

void ResultStore::write_spec(const std::string& yaml_text) {
  h5::write_string_dataset(file_, "spec", yaml_text, path_);
  flush();
}

void ResultStore::write_provenance(const Provenance& p) {
  h5::Handle g = h5::open_or_create_group(file_, "provenance", path_);
  h5::write_attr(g, "version", p.version, path_);
  h5::write_attr(g, "git_revision", p.git_revision, path_);
  h5::write_attr(g, "command_line", p.command_line, path_);
  h5::write_attr(g, "ranks", int64_t{p.ranks}, path_);
  h5::write_attr(g, "hosts", p.hosts, path_);
  h5::write_attr(g, "start_time", p.start_time, path_);
  h5::write_attr(g, "end_time", std::string(), path_);
  h5::Handle libs = h5::open_or_create_group(g, "libraries", path_);
  for (const auto& [name, version] : p.libraries) h5::write_attr(libs, name, version, path_);
  h5::Handle compute = h5::open_or_create_group(g, "compute", path_);
  for (const auto& [name, value] : p.compute) h5::write_attr(compute, name, value, path_);
  flush();
}

void ResultStore::write_end_time(const std::string& iso_time) {
  h5::Handle g = h5::open_or_create_group(file_, "provenance", path_);
  h5::write_attr(g, "end_time", iso_time, path_);
  flush();
}

namespace {

void write_common(hid_t g, Status status, const std::string& error, double seconds,
                  const NamedStrings& options, const NamedValues& metrics, const Columns& curve,
                  const std::string& ctx) {
  h5::write_attr(g, "status", to_string(status), ctx);
  h5::write_attr(g, "error", error, ctx);
  h5::write_attr(g, "seconds", seconds, ctx);
  h5::Handle opts = h5::open_or_create_group(g, "options", ctx);
  for (const auto& [k, v] : options) h5::write_attr(opts, k, v, ctx);
  h5::Handle m = h5::open_or_create_group(g, "metrics", ctx);
  for (const auto& [k, v] : metrics) h5::write_attr(m, k, v, ctx);
  h5::Handle c = h5::open_or_create_group(g, "curves", ctx);
  for (const auto& [k, v] : curve) h5::write_dataset(c, k, v, ctx);
}

// Named float arrays under `base`; a name's '/' makes subgroups ("generator/conv1.weight").
// Chunked and deflate-compressed (h5::write_dataset).
void write_artifacts(hid_t g, const std::string& base, const std::vector<Artifact>& artifacts,
                     const std::string& ctx) {
  for (const auto& a : artifacts) {
    const auto slash = a.name.rfind('/');  // npos + 1 == 0: the whole name
    const std::string dir = slash == std::string::npos ? base : base + "/" + a.name.substr(0, slash);
    h5::Handle parent = h5::open_or_create_group(g, dir, ctx);
    h5::write_dataset(parent, a.name.substr(slash + 1), a.values,
                      std::vector<hsize_t>(a.shape.begin(), a.shape.end()), ctx);
  }
}

}  // namespace

void ResultStore::write_attack(const CellKey& cell, const AttackRecord& r) {
  const std::string ctx = path_ + ":" + cell.group_path();
  h5::Handle cell_group = h5::open_or_create_group(file_, cell.group_path(), ctx);
  h5::write_attr(cell_group, "status", to_string(r.status), ctx);
  h5::write_attr(cell_group, "error", r.error, ctx);
  h5::Handle g = h5::open_or_create_group(cell_group, "attack", ctx);
  write_common(g, r.status, r.error, r.seconds, r.options, r.metrics, r.curve, ctx);
  if (!r.poison_mask.empty()) h5::write_dataset(g, "poison_mask", r.poison_mask, ctx);
  write_artifacts(g, "trigger", r.trigger, ctx);
  for (const auto& p : r.probes) {
    h5::Handle g2 = h5::open_or_create_group(g, "probes/" + p.model, ctx);
    for (const auto& [k, v] : p.values) h5::write_attr(g2, k, v, ctx);
    const auto c = static_cast<hsize_t>(p.classes);
    h5::write_dataset(g2, "confusion", p.confusion, {c, c}, ctx);
    if (!p.activations.empty()) {
      write_artifacts(g2, "activations", p.activations, ctx);
      h5::Handle dumps = h5::open_or_create_group(g2, "activations", ctx);
      h5::write_dataset(dumps, "rows", p.dump_rows, ctx);
      h5::write_dataset(dumps, "labels", p.dump_labels, ctx);
    }
  }
  flush();
}

void ResultStore::write_defense(const CellKey& cell, const std::string& defense, const DefenseRecord& r) {
  const std::string ctx = path_ + ":" + cell.group_path() + "/defenses/" + defense;
  h5::Handle g = h5::open_or_create_group(file_, cell.group_path() + "/defenses/" + defense, ctx);
  write_common(g, r.status, r.error, r.seconds, r.options, r.metrics, r.curve, ctx);
  if (!r.steps.empty()) {
    h5::Handle steps = h5::open_or_create_group(g, "steps", ctx);
    for (const auto& [k, v] : r.steps) h5::write_dataset(steps, k, v, ctx);
  }
  if (!r.neurons.empty()) {
    h5::Handle neurons = h5::open_or_create_group(g, "neurons", ctx);
    for (const auto& [k, v] : r.neurons) h5::write_dataset(neurons, k, v, ctx);
  }
  if (!r.selected.empty()) h5::write_dataset(g, "selected", r.selected, ctx);
  flush();
}

void ResultStore::copy_cell(const std::string& from_path, const CellKey& cell) {
  const std::string ctx = path_ + ": copying " + cell.group_path() + " from " + from_path;
  h5::Handle from = h5::checked(H5Fopen(from_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), ctx, "H5Fopen");
  h5::Handle lcpl = h5::checked(H5Pcreate(H5P_LINK_CREATE), ctx, "H5Pcreate");
  H5Pset_create_intermediate_group(lcpl, 1);
  h5::check(H5Ocopy(from, cell.group_path().c_str(), file_, cell.group_path().c_str(), H5P_DEFAULT, lcpl), ctx, "H5Ocopy");
  flush();
}

void ResultStore::append_matrix_row(const MatrixRow& row) {
  h5::Handle type = h5::matrix_row_type();
  h5::Handle space = h5::checked(H5Dget_space(matrix_), path_, "/matrix get space");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  hsize_t grown = n + 1, one = 1;
  h5::check(H5Dset_extent(matrix_, &grown), path_, "extend /matrix");
  h5::Handle file_space = h5::checked(H5Dget_space(matrix_), path_, "/matrix get space");
  h5::check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &n, nullptr, &one, nullptr), path_,
            "select /matrix row");
  h5::Handle mem_space = h5::checked(H5Screate_simple(1, &one, nullptr), path_, "H5Screate");
  h5::MatrixRowC c = h5::to_c(row);
  h5::check(H5Dwrite(matrix_, type, mem_space, file_space, H5P_DEFAULT, &c), path_, "write /matrix row");
  flush();
}

std::vector<MatrixRow> read_matrix(const std::string& path) {
  h5::silence_library_errors();
  if (!fs::is_regular_file(path)) throw StorageError(path + ": file not found");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw StorageError(path + ": not an HDF5 file (truncated or corrupt?)");
  h5::Handle f = h5::checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "open");
  if (H5Lexists(f, "matrix", H5P_DEFAULT) <= 0) throw StorageError(path + ": no /matrix table: not a pbe-dist results file");
  h5::Handle ds = h5::checked(H5Dopen2(f, "matrix", H5P_DEFAULT), path, "open /matrix");
  h5::Handle type = h5::matrix_row_type();
  h5::Handle space = h5::checked(H5Dget_space(ds), path, "/matrix get space");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  std::vector<h5::MatrixRowC> raw(n);
  std::vector<MatrixRow> rows;
  if (n == 0) return rows;
  h5::check(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), path, "read /matrix");
  for (const auto& c : raw) rows.push_back(h5::from_c(c));
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, raw.data());
  return rows;
}

}  // namespace pbe
