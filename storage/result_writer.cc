#include "storage/result_writer.h"

#include "storage/h5.h"
#include "storage/matrix_table.h"
#include "storage/storage_error.h"

namespace pbe {

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

ResultWriter::ResultWriter(int64_t file_id, std::string context) : file_(file_id), ctx_(std::move(context)) {}

ResultWriter::~ResultWriter() = default;

void ResultWriter::write_header(const std::string& spec_text, const Provenance& p) {
  h5::write_attr(file_, "producer", std::string("pbe-dist"), ctx_);
  h5::write_string_dataset(file_, "spec", spec_text, ctx_);
  h5::Handle g = h5::open_or_create_group(file_, "provenance", ctx_);
  h5::write_attr(g, "version", p.version, ctx_);
  h5::write_attr(g, "git_revision", p.git_revision, ctx_);
  h5::write_attr(g, "command_line", p.command_line, ctx_);
  h5::write_attr(g, "ranks", int64_t{p.ranks}, ctx_);
  h5::write_attr(g, "hosts", p.hosts, ctx_);
  h5::write_attr(g, "start_time", p.start_time, ctx_);
  h5::write_attr(g, "end_time", std::string(), ctx_);
  h5::Handle libs = h5::open_or_create_group(g, "libraries", ctx_);
  for (const auto& [name, version] : p.libraries) h5::write_attr(libs, name, version, ctx_);
  h5::Handle compute = h5::open_or_create_group(g, "compute", ctx_);
  for (const auto& [name, value] : p.compute) h5::write_attr(compute, name, value, ctx_);
  set_matrix({});
}

void ResultWriter::write_end_time(const std::string& iso_time) {
  h5::Handle g = h5::open_or_create_group(file_, "provenance", ctx_);
  h5::write_attr(g, "end_time", iso_time, ctx_);
}

void ResultWriter::write_attack(const CellKey& cell, const AttackRecord& r) {
  const std::string ctx = ctx_ + ":" + cell.group_path();
  h5::Handle cell_group = h5::open_or_create_group(file_, cell.group_path(), ctx);
  h5::write_attr(cell_group, "status", to_string(r.status), ctx);
  h5::write_attr(cell_group, "error", r.error, ctx);
  h5::Handle g = h5::open_or_create_group(cell_group, "attack", ctx);
  write_common(g, r.status, r.error, r.seconds, r.options, r.metrics, r.curve, ctx);
  h5::write_attr(g, "model_source", r.model_source, ctx);
  h5::write_attr(g, "model_key", r.model_key, ctx);
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
}

void ResultWriter::write_defense(const CellKey& cell, const std::string& defense, const DefenseRecord& r) {
  const std::string ctx = ctx_ + ":" + cell.group_path() + "/defenses/" + defense;
  h5::Handle g = h5::open_or_create_group(file_, cell.group_path() + "/defenses/" + defense, ctx);
  write_common(g, r.status, r.error, r.seconds, r.options, r.metrics, r.curve, ctx);
  for (const auto& [name, table] : {std::make_pair("steps", &r.steps), std::make_pair("neurons", &r.neurons),
                                    std::make_pair("rows", &r.rows)}) {
    if (table->empty()) continue;
    h5::Handle group = h5::open_or_create_group(g, name, ctx);
    for (const auto& [k, v] : *table) h5::write_dataset(group, k, v, ctx);
  }
  if (!r.selected.empty()) h5::write_dataset(g, "selected", r.selected, ctx);
}

bool ResultWriter::copy_object(const std::string& from_path, const std::string& object_path) {
  const std::string ctx = ctx_ + ": copying " + object_path + " from " + from_path;
  h5::Handle from = h5::checked(H5Fopen(from_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), ctx, "H5Fopen");
  if (!h5::exists(from, object_path)) return false;
  h5::Handle lcpl = h5::checked(H5Pcreate(H5P_LINK_CREATE), ctx, "H5Pcreate");
  H5Pset_create_intermediate_group(lcpl, 1);
  h5::check(H5Ocopy(from, object_path.c_str(), file_, object_path.c_str(), H5P_DEFAULT, lcpl), ctx, "H5Ocopy");
  return true;
}

void ResultWriter::append_matrix_row(const MatrixRow& row) {
  h5::Handle matrix = h5::checked(H5Dopen2(file_, "matrix", H5P_DEFAULT), ctx_, "open /matrix");
  h5::Handle type = h5::matrix_row_type();
  h5::Handle file_type = h5::checked(H5Dget_type(matrix), ctx_, "/matrix get type");
  if (H5Tget_nmembers(file_type) != H5Tget_nmembers(type))  // rows would lose the columns it lacks
    throw StorageError(ctx_ + ": its /matrix lacks columns of schema version " + std::to_string(kResultsSchemaVersion) +
                       "; `pbe_dist merge " + ctx_ + " -o NEW.h5` rewrites it");
  h5::Handle space = h5::checked(H5Dget_space(matrix), ctx_, "/matrix get space");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  hsize_t grown = n + 1, one = 1;
  h5::check(H5Dset_extent(matrix, &grown), ctx_, "extend /matrix");
  h5::Handle file_space = h5::checked(H5Dget_space(matrix), ctx_, "/matrix get space");
  h5::check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &n, nullptr, &one, nullptr), ctx_, "select /matrix row");
  h5::Handle mem_space = h5::checked(H5Screate_simple(1, &one, nullptr), ctx_, "H5Screate");
  const std::vector<MatrixRow> rows{row};
  const std::vector<unsigned char> packed = h5::pack_rows(rows);
  h5::check(H5Dwrite(matrix, type, mem_space, file_space, H5P_DEFAULT, packed.data()), ctx_, "write /matrix row");
  write_schema();
}

void ResultWriter::write_schema() {
  h5::write_attr(file_, "schema_version", int64_t{kResultsSchemaVersion}, ctx_);
  h5::write_attr(file_, "schema", h5::schema_json(), ctx_);
}

bool ResultWriter::has_object(const std::string& object_path) const { return h5::exists(file_, object_path); }

void ResultWriter::write_merged_from(const std::vector<std::string>& paths) {
  h5::Handle g = h5::open_or_create_group(file_, "provenance", ctx_);
  h5::write_attr(g, "merged_from", paths, ctx_);
}

void ResultWriter::set_matrix(const std::vector<MatrixRow>& rows) {
  if (h5::exists(file_, "matrix")) h5::check(H5Ldelete(file_, "matrix", H5P_DEFAULT), ctx_, "delete /matrix");
  h5::Handle type = h5::matrix_row_type();
  hsize_t n = rows.size(), unlimited = H5S_UNLIMITED, chunk = 64;
  h5::Handle space = h5::checked(H5Screate_simple(1, &n, &unlimited), ctx_, "H5Screate");
  h5::Handle dcpl = h5::checked(H5Pcreate(H5P_DATASET_CREATE), ctx_, "H5Pcreate");
  H5Pset_chunk(dcpl, 1, &chunk);
  h5::Handle matrix = h5::checked(H5Dcreate2(file_, "matrix", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), ctx_,
                                  "create /matrix");
  if (n > 0) {  // all rows in one write
    const std::vector<unsigned char> packed = h5::pack_rows(rows);
    h5::check(H5Dwrite(matrix, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, packed.data()), ctx_, "write /matrix");
  }
  write_schema();
}

}  // namespace pbe
