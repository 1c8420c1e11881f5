#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "analysis/matrix_table.h"
#include "storage/h5.h"
#include "storage/matrix_table.h"
#include "storage/result_store.h"
#include "storage/storage_error.h"
#include "tests/failing_file_env.h"
#include "tests/temp_dir_test.h"

namespace fs = std::filesystem;
using namespace pbe;

namespace {

class ResultStoreTest : public pbe::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = (dir_ / "sub" / "r.h5").string();
  }
  std::string path_;
};

MatrixRow row(const std::string& attack, const std::string& defense, double acc, double asr) {
  MatrixRow r;
  r.dataset = "fashion-mnist";
  r.model = "small-cnn";
  r.attack = attack;
  r.seed = 0;
  r.defense = defense;
  r.status = Status::kDone;
  r.acc = acc;
  r.asr = asr;
  return r;
}

TEST_F(ResultStoreTest, WritesThenReadsBack) {
  CellKey key{"fashion-mnist", "small-cnn", "badnets", 3};
  {
    Provenance p;
    p.version = "0.1.0";
    p.ranks = 2;
    p.hosts = {"a", "b"};
    p.libraries = {{"hdf5", h5::library_version()}};
    auto store = ResultStore::create(path_, false, "name: x\n", p);
    AttackRecord a;
    a.metrics = {{"acc", 0.9}, {"asr", 0.99}};
    a.curve = {{"epoch", {0, 1}}, {"loss", {2.0, 1.0}}};
    a.poison_mask = {0, 1, 0, 1};
    a.trigger = {{"trigger_mask", {2, 2}, {0, 0, 1, 1}},
                 {"generator/conv1.weight", {1, 3}, {0.5f, -1, 2}}};
    store->commit([&](ResultWriter& w) { w.write_attack(key, a); });
    DefenseRecord d;
    d.metrics = {{"acc", 0.88}, {"der", 0.97}};
    DefenseRecord pbe;
    pbe.steps = {{"step", {0, 1}}, {"size", {5, 20}}};
    pbe.selected = {1, 0, 0, 1};
    pbe.rows = {{"score_step0", {0.25, 1.0, 0.5, 0.75}}};
    MatrixRow r1 = row("badnets", "none", 0.9, 0.99);
    r1.seed = 3;
    r1.asr_denominator = 9000;
    MatrixRow r2 = row("badnets", "ft", 0.88, 0.05);
    r2.seed = 3;
    r2.status = Status::kFailed;
    r2.error = "loss is nan at epoch 2 — ünïcode";
    store->commit([&](ResultWriter& w) {
      w.write_defense(key, "ft", d);
      w.append_matrix_row(r1);
    });
    store->commit([&](ResultWriter& w) {
      w.write_defense(key, "pbe", pbe);
      w.append_matrix_row(r2);
    });
  }
  auto rows = read_matrix(path_);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].attack, "badnets");
  EXPECT_EQ(rows[0].seed, 3);
  EXPECT_DOUBLE_EQ(rows[0].asr, 0.99);
  EXPECT_EQ(rows[0].asr_denominator, 9000);
  EXPECT_EQ(rows[1].status, Status::kFailed);
  EXPECT_EQ(rows[1].error, "loss is nan at epoch 2 — ünïcode");
  EXPECT_TRUE(std::isnan(rows[1].ra));

  // The per-cell groups, read with the plain HDF5 API.
  hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t g = H5Gopen2(f, "/cells/fashion-mnist/small-cnn/badnets/seed3/attack", H5P_DEFAULT);
  ASSERT_GE(g, 0);
  EXPECT_EQ(h5::read_string_attr(g, "status", "test"), "done");
  hid_t ds = H5Dopen2(g, "poison_mask", H5P_DEFAULT);
  uint8_t mask[4] = {};
  H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, mask);
  EXPECT_EQ(mask[1], 1);
  EXPECT_EQ(mask[2], 0);
  H5Dclose(ds);
  // Trigger arrays keep their shape; a '/' in the name makes a subgroup.
  ds = H5Dopen2(g, "trigger/generator/conv1.weight", H5P_DEFAULT);
  ASSERT_GE(ds, 0);
  hid_t space = H5Dget_space(ds);
  hsize_t dims[2] = {};
  ASSERT_EQ(H5Sget_simple_extent_ndims(space), 2);
  H5Sget_simple_extent_dims(space, dims, nullptr);
  EXPECT_EQ(dims[0], 1u);
  EXPECT_EQ(dims[1], 3u);
  float weights[3] = {};
  H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, weights);
  EXPECT_FLOAT_EQ(weights[2], 2.0f);
  H5Sclose(space);
  H5Dclose(ds);
  EXPECT_GT(H5Lexists(g, "trigger/trigger_mask", H5P_DEFAULT), 0);
  // PBE's per-step table and final selection.
  ds = H5Dopen2(f, "/cells/fashion-mnist/small-cnn/badnets/seed3/defenses/pbe/steps/size", H5P_DEFAULT);
  ASSERT_GE(ds, 0);
  double sizes[2] = {};
  H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, sizes);
  EXPECT_EQ(sizes[1], 20.0);
  H5Dclose(ds);
  ds = H5Dopen2(f, "/cells/fashion-mnist/small-cnn/badnets/seed3/defenses/pbe/selected", H5P_DEFAULT);
  ASSERT_GE(ds, 0);
  uint8_t kept[4] = {};
  H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, kept);
  EXPECT_EQ(kept[3], 1);
  EXPECT_EQ(kept[1], 0);
  H5Dclose(ds);
  EXPECT_EQ(H5Lexists(f, "/cells/fashion-mnist/small-cnn/badnets/seed3/defenses/ft/steps", H5P_DEFAULT), 0);
  EXPECT_EQ(H5Lexists(f, "/cells/fashion-mnist/small-cnn/badnets/seed3/defenses/ft/rows", H5P_DEFAULT), 0);
  H5Gclose(g);
  EXPECT_GT(H5Lexists(f, "/cells/fashion-mnist/small-cnn/badnets/seed3/defenses", H5P_DEFAULT), 0);
  EXPECT_GT(H5Aexists_by_name(f, "/provenance", "hosts", H5P_DEFAULT), 0);
  H5Fclose(f);
  // PBE's per-row scores come back as a column.
  const Columns scores = read_columns(path_, "/cells/fashion-mnist/small-cnn/badnets/seed3/defenses/pbe/rows");
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].first, "score_step0");
  EXPECT_EQ(scores[0].second, (std::vector<double>{0.25, 1.0, 0.5, 0.75}));
}

std::unique_ptr<ResultStore> create(const std::string& path, bool overwrite) {
  return ResultStore::create(path, overwrite, "name: x\n", Provenance{});
}

void add_row(ResultStore& store, const MatrixRow& r) {
  store.commit([&](ResultWriter& w) { w.append_matrix_row(r); });
}

TEST_F(ResultStoreTest, RefusesAnExistingFileAndLeavesItIntact) {
  add_row(*create(path_, false), row("none", "none", 0.5, NAN));
  const auto before = fs::file_size(path_);
  try {
    create(path_, false);
    FAIL() << "expected a StorageError";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find(path_ + ": results file exists"), std::string::npos);
  }
  EXPECT_EQ(fs::file_size(path_), before);
  EXPECT_EQ(read_matrix(path_).size(), 1u);
  // --overwrite replaces it.
  create(path_, true);
  EXPECT_EQ(read_matrix(path_).size(), 0u);
  EXPECT_EQ(std::distance(fs::directory_iterator(fs::path(path_).parent_path()), fs::directory_iterator()), 1)
      << "no commit copies left behind";
}

// A commit that throws half-way leaves the file exactly as it was; the next one goes through.
TEST_F(ResultStoreTest, AFailedCommitChangesNothing) {
  auto store = create(path_, false);
  add_row(*store, row("badnets", "none", 0.9, 1.0));
  std::ifstream in(path_, std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THROW(store->commit([&](ResultWriter& w) {
                 w.append_matrix_row(row("badnets", "ft", 0.8, 0.1));
                 throw StorageError("disk full");
               }),
               StorageError);
  std::ifstream again(path_, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>()), before);
  add_row(*store, row("badnets", "ft", 0.8, 0.1));
  EXPECT_EQ(read_matrix(path_).size(), 2u);
  EXPECT_EQ(std::distance(fs::directory_iterator(fs::path(path_).parent_path()), fs::directory_iterator()), 1);
}

// A commit that meets a full disk (its copy of the file cannot be written) or a failing device
// (an fsync or the rename fails) ends the run with exit 1 and the file named; the file on disk is
// the previous version, byte for byte, no copy is left, and the next commit, with space, works.
TEST_F(ResultStoreTest, ACommitTheFileSystemFailsLeavesThePreviousVersionWhole) {
  using Call = pbe::testing::FailingFileEnv::Call;
  auto store = create(path_, false);
  add_row(*store, row("badnets", "none", 0.9, 1.0));
  const auto contents = [&] {
    std::ifstream in(path_, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string before = contents();
  for (const auto& [call, what] : {std::pair{Call::kCopy, "No space left on device"}, std::pair{Call::kSync, "fsync failed"},
                                   std::pair{Call::kRename, "cannot move the new file into place"}}) {
    SCOPED_TRACE(what);
    {
      pbe::testing::FailingFileEnv env(call, ".commit-");
      try {
        add_row(*store, row("badnets", "ft", 0.8, 0.1));
        FAIL() << "no error";
      } catch (const StorageError& e) {
        EXPECT_EQ(e.exit_code(), kExitRunFailure);
        EXPECT_EQ(std::string(e.what()).rfind(path_ + ": commit failed: ", 0), 0u) << e.what();
        EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      }
      EXPECT_EQ(env.failures(), 1);
    }
    EXPECT_EQ(contents(), before);
    EXPECT_EQ(read_matrix(path_).size(), 1u);
    EXPECT_EQ(std::distance(fs::directory_iterator(fs::path(path_).parent_path()), fs::directory_iterator()), 1)
        << "the commit's copy was left";
  }
  add_row(*store, row("badnets", "ft", 0.8, 0.1));
  EXPECT_EQ(read_matrix(path_).size(), 2u);
}

// Fields of the right name but the wrong shape, as fuzz/results.cc made them (a schema_version
// array overflowed the single int64 it was read into, its first finding): each is refused or
// skipped, never read past the value the reader holds, and a column larger than memory is refused
// before it is allocated.
TEST_F(ResultStoreTest, FieldsOfTheWrongShapeAreRefusedNotReadPastTheirEnd) {
  add_row(*create(path_, false), row("badnets", "none", 0.9, 1.0));
  const auto edit = [&](const std::function<void(hid_t)>& change) {
    hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    change(f);
    H5Fclose(f);
  };
  const auto array_attr = [](hid_t obj, const char* name, hid_t type, const void* data) {
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    const hsize_t n = 3;
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, type, data);
    H5Aclose(a);
    H5Sclose(space);
  };
  const auto error_of = [&](const std::function<void()>& read) -> std::string {
    try {
      read();
    } catch (const StorageError& e) {
      return e.what();
    }
    return "no error";
  };

  // A huge 1-D column (chunked, never written) and a numeric attribute array in a unit's group.
  edit([&](hid_t f) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(f, "cells/x/steps", lcpl, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t huge = hsize_t{1} << 50, chunk = 1024;
    hid_t space = H5Screate_simple(1, &huge, nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Dclose(H5Dcreate2(g, "loss", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    const double values[3] = {1, 2, 3};
    array_attr(g, "acc", H5T_NATIVE_DOUBLE, values);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Gclose(g);
    H5Pclose(lcpl);
  });
  const std::string huge = error_of([&] { read_columns(path_, "cells/x/steps"); });
  EXPECT_EQ(huge.rfind(path_ + ": cells/x/steps/loss: 1125899906842624 values would need 8.0 PiB, more than", 0), 0u)
      << huge;
  EXPECT_TRUE(read_values(path_, "cells/x/steps").empty()) << "an array is not a scalar value";

  // An attack unit whose status is an array.
  edit([&](hid_t f) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(f, "cells/d/m/badnets/seed0/attack", lcpl, H5P_DEFAULT, H5P_DEFAULT);
    const char* statuses[3] = {"done", "done", "done"};
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    array_attr(g, "status", type, statuses);
    H5Tclose(type);
    H5Gclose(g);
    H5Pclose(lcpl);
  });
  EXPECT_EQ(error_of([&] { read_stored_results(path_); }), path_ + ": attribute status is not a single value");

  // /spec as an array of strings.
  edit([](hid_t f) {
    H5Ldelete(f, "spec", H5P_DEFAULT);
    const char* texts[2] = {"a", "b"};
    const hsize_t n = 2;
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t ds = H5Dcreate2(f, "spec", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, texts);
    H5Dclose(ds);
    H5Sclose(space);
    H5Tclose(type);
  });
  EXPECT_EQ(error_of([&] { read_spec_text(path_); }), path_ + ": dataset spec is not a single value");

  // A 2-D /matrix.
  edit([](hid_t f) {
    H5Ldelete(f, "matrix", H5P_DEFAULT);
    const hsize_t dims[2] = {2, 2};
    hid_t space = H5Screate_simple(2, dims, nullptr);
    hid_t type = pbe::h5::matrix_row_type().release();
    H5Dclose(H5Dcreate2(f, "matrix", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Tclose(type);
    H5Sclose(space);
  });
  EXPECT_EQ(error_of([&] { read_matrix(path_); }), path_ + ": /matrix is not a table (a 1-D dataset of compound rows)");

  // schema_version as an array: the file is not one this pbe_dist reads.
  edit([&](hid_t f) {
    const int64_t versions[3] = {2, 2, 2};
    array_attr(f, "schema_version", H5T_NATIVE_INT64, versions);
  });
  EXPECT_EQ(results_file_problem(path_), "schema version -1; this pbe_dist reads 1 to 2");
}

// A reader that opened the file before a commit keeps reading the version it opened; a reader
// opening after it sees the new unit. The writer never holds the file open.
TEST_F(ResultStoreTest, ReadersSeeWholeUnits) {
  auto store = create(path_, false);
  add_row(*store, row("badnets", "none", 0.9, 1.0));
  hid_t reader = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(reader, 0);
  add_row(*store, row("badnets", "ft", 0.8, 0.1));
  hid_t ds = H5Dopen2(reader, "matrix", H5P_DEFAULT);
  hid_t space = H5Dget_space(ds);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  EXPECT_EQ(n, 1u);
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(reader);
  EXPECT_EQ(read_matrix(path_).size(), 2u);
}

TEST_F(ResultStoreTest, OpensOnlyResultsFiles) {
  create(path_, false);
  EXPECT_EQ(results_file_problem(path_), "");
  EXPECT_NO_THROW(ResultStore::open(path_));
  const std::string truncated = (dir_ / "t.h5").string();
  fs::copy_file(path_, truncated);
  fs::resize_file(truncated, fs::file_size(truncated) / 2);
  EXPECT_NE(results_file_problem(truncated), "");
  try {
    ResultStore::open(truncated);
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(truncated + ": ", 0), 0u) << e.what();
  }
  EXPECT_EQ(results_file_problem((dir_ / "none.h5").string()), "file not found");
}

TEST_F(ResultStoreTest, ReadingAGarbageFileIsAClearError) {
  std::ofstream(path_ = (dir_ / "junk.h5").string()) << "not hdf5";
  try {
    read_matrix(path_);
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.h5: not an HDF5 file"), std::string::npos);
  }
}

// Replaces the file's /matrix with one row of a schema-version-1-like layout that lacks the
// columns `rir` and `seconds`, with `status` as given.
void write_old_matrix(const std::string& path, const char* status) {
  struct OldRow {
    const char *dataset, *model, *attack;
    int32_t seed;
    const char *defense, *status, *error;
    double acc, asr, ra, der;
    int64_t asr_denominator;
  } row{"fashion-mnist", "small-cnn", "badnets", 2, "ft", status, "", 0.875, 0.125, 0.5, 0.75, 900};
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  H5Ldelete(f, "matrix", H5P_DEFAULT);
  H5Adelete(f, "schema");
  h5::write_attr(f, "schema_version", int64_t{1}, path);
  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, H5T_VARIABLE);
  H5Tset_cset(str, H5T_CSET_UTF8);  // as version 1 wrote them (HDF5 does not convert ASCII to UTF-8)
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(OldRow));
  H5Tinsert(t, "dataset", HOFFSET(OldRow, dataset), str);
  H5Tinsert(t, "model", HOFFSET(OldRow, model), str);
  H5Tinsert(t, "attack", HOFFSET(OldRow, attack), str);
  H5Tinsert(t, "seed", HOFFSET(OldRow, seed), H5T_NATIVE_INT32);
  H5Tinsert(t, "defense", HOFFSET(OldRow, defense), str);
  H5Tinsert(t, "status", HOFFSET(OldRow, status), str);
  H5Tinsert(t, "error", HOFFSET(OldRow, error), str);
  H5Tinsert(t, "acc", HOFFSET(OldRow, acc), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "asr", HOFFSET(OldRow, asr), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "ra", HOFFSET(OldRow, ra), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "der", HOFFSET(OldRow, der), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "asr_denominator", HOFFSET(OldRow, asr_denominator), H5T_NATIVE_INT64);
  hsize_t one = 1;
  hid_t space = H5Screate_simple(1, &one, nullptr);
  hid_t ds = H5Dcreate2(f, "matrix", t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &row), 0);
  H5Dclose(ds);
  H5Sclose(space);
  H5Tclose(t);
  H5Tclose(str);
  H5Fclose(f);
}

bool has_root_attribute(const std::string& path, const char* name) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const bool has = H5Aexists(f, name) > 0;
  H5Fclose(f);
  return has;
}

TEST_F(ResultStoreTest, AColumnAnOlderFileLacksReadsAsItsDefault) {
  create(path_, false);
  write_old_matrix(path_, "done");
  const auto rows = read_matrix(path_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].attack, "badnets");
  EXPECT_EQ(rows[0].seed, 2);
  EXPECT_EQ(rows[0].defense, "ft");
  EXPECT_EQ(rows[0].status, Status::kDone);
  EXPECT_DOUBLE_EQ(rows[0].acc, 0.875);
  EXPECT_DOUBLE_EQ(rows[0].der, 0.75);
  EXPECT_EQ(rows[0].asr_denominator, 900);
  EXPECT_TRUE(std::isnan(rows[0].rir));  // the defaults
  EXPECT_EQ(rows[0].seconds, 0.0);
}

TEST_F(ResultStoreTest, WritingTheMatrixBringsAnOlderFileToThisSchema) {
  create(path_, false);
  write_old_matrix(path_, "done");
  ASSERT_FALSE(has_root_attribute(path_, "schema"));
  const auto old_rows = read_matrix(path_);
  ResultStore::open(path_)->commit([&](ResultWriter& w) { w.set_matrix(old_rows); });
  EXPECT_TRUE(has_root_attribute(path_, "schema"));
  hid_t f = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_EQ(h5::read_string_attr(f, "schema", path_), h5::schema_json());
  hid_t ds = H5Dopen2(f, "matrix", H5P_DEFAULT);
  hid_t t = H5Dget_type(ds);
  EXPECT_EQ(H5Tget_nmembers(t), 14);  // rir and seconds added
  H5Tclose(t);
  H5Dclose(ds);
  H5Fclose(f);
  const auto rows = read_matrix(path_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_DOUBLE_EQ(rows[0].acc, 0.875);
}

TEST_F(ResultStoreTest, RowsAreNotAppendedToAMatrixThatLacksColumns) {
  create(path_, false);
  write_old_matrix(path_, "done");
  try {
    ResultStore::open(path_)->commit([&](ResultWriter& w) { w.append_matrix_row(row("blend", "ft", 0.5, 0.5)); });
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("/matrix lacks columns of schema version 2; `pbe_dist merge"),
              std::string::npos) << e.what();
  }
  EXPECT_EQ(read_matrix(path_).size(), 1u);  // the file as it was
}

TEST_F(ResultStoreTest, AnUnknownStatusIsAClearError) {
  create(path_, false);
  write_old_matrix(path_, "running");
  try {
    read_matrix(path_);
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_EQ(std::string(e.what()), path_ + ": /matrix row 0: status \"running\" is neither \"done\" nor \"failed\"");
  }
}

TEST(MatrixSchema, NamesEveryColumnOfTheTypeInOrder) {
  const std::string json = h5::schema_json();
  h5::Handle t = h5::matrix_row_type();
  size_t at = 0;
  for (int i = 0; i < H5Tget_nmembers(t); ++i) {
    char* name = H5Tget_member_name(t, static_cast<unsigned>(i));
    const size_t found = json.find("{\"name\": \"" + std::string(name) + "\"", at);
    H5free_memory(name);
    ASSERT_NE(found, std::string::npos) << i;
    at = found;
  }
  EXPECT_EQ(json.rfind("{\"version\": 2, \"matrix\": [", 0), 0u) << json;
}

TEST(MatrixTable, FormatsCellsFailuresAndMissing) {
  std::vector<MatrixRow> rows{row("none", "none", 0.9, NAN), row("none", "ft", 0.8912, NAN),
                              row("badnets", "none", 0.9, 1.0)};
  MatrixRow failed = row("badnets", "ft", NAN, NAN);
  failed.status = Status::kFailed;
  rows.push_back(failed);
  rows.push_back(row("blend", "none", 0.5, 0.25));
  EXPECT_EQ(format_matrix_table(rows),
            "fashion-mnist / small-cnn: ACC / ASR (%) after each defense\n"
            "attack  | seed | none           | ft       \n"
            "--------|------|----------------|----------\n"
            "none    | 0    | 90.00 / -      | 89.12 / -\n"
            "badnets | 0    | 90.00 / 100.00 | failed   \n"
            "blend   | 0    | 50.00 / 25.00  | missing  \n");
}

}  // namespace
