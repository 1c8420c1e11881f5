#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "analysis/matrix_table.h"
#include "storage/h5.h"
#include "storage/result_store.h"
#include "storage/storage_error.h"
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
  r.status = "done";
  r.acc = acc;
  r.asr = asr;
  return r;
}

TEST_F(ResultStoreTest, WritesThenReadsBack) {
  CellKey key{"fashion-mnist", "small-cnn", "badnets", 3};
  {
    auto store = ResultStore::create(path_, false);
    store->write_spec("name: x\n");
    Provenance p;
    p.version = "0.1.0";
    p.ranks = 2;
    p.hosts = {"a", "b"};
    p.libraries = {{"hdf5", h5::library_version()}};
    store->write_provenance(p);
    AttackRecord a;
    a.metrics = {{"acc", 0.9}, {"asr", 0.99}};
    a.curve = {{"epoch", {0, 1}}, {"loss", {2.0, 1.0}}};
    a.poison_mask = {0, 1, 0, 1};
    a.trigger = {{"trigger_mask", {2, 2}, {0, 0, 1, 1}},
                 {"generator/conv1.weight", {1, 3}, {0.5f, -1, 2}}};
    store->write_attack(key, a);
    DefenseRecord d;
    d.metrics = {{"acc", 0.88}, {"der", 0.97}};
    store->write_defense(key, "ft", d);
    DefenseRecord pbe;
    pbe.steps = {{"step", {0, 1}}, {"size", {5, 20}}};
    pbe.selected = {1, 0, 0, 1};
    store->write_defense(key, "pbe", pbe);
    MatrixRow r1 = row("badnets", "none", 0.9, 0.99);
    r1.seed = 3;
    r1.asr_denominator = 9000;
    MatrixRow r2 = row("badnets", "ft", 0.88, 0.05);
    r2.seed = 3;
    r2.status = "failed";
    r2.error = "loss is nan at epoch 2 — ünïcode";
    store->append_matrix_row(r1);
    store->append_matrix_row(r2);
  }
  auto rows = read_matrix(path_);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].attack, "badnets");
  EXPECT_EQ(rows[0].seed, 3);
  EXPECT_DOUBLE_EQ(rows[0].asr, 0.99);
  EXPECT_EQ(rows[0].asr_denominator, 9000);
  EXPECT_EQ(rows[1].status, "failed");
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
  H5Gclose(g);
  EXPECT_GT(H5Lexists(f, "/cells/fashion-mnist/small-cnn/badnets/seed3/defenses", H5P_DEFAULT), 0);
  EXPECT_GT(H5Aexists_by_name(f, "/provenance", "hosts", H5P_DEFAULT), 0);
  H5Fclose(f);
}

TEST_F(ResultStoreTest, RefusesAnExistingFileAndLeavesItIntact) {
  { ResultStore::create(path_, false)->append_matrix_row(row("none", "none", 0.5, NAN)); }
  const auto before = fs::file_size(path_);
  try {
    ResultStore::create(path_, false);
    FAIL() << "expected a StorageError";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find(path_ + ": results file exists"), std::string::npos);
  }
  EXPECT_EQ(fs::file_size(path_), before);
  EXPECT_EQ(read_matrix(path_).size(), 1u);
  // --overwrite replaces it.
  { ResultStore::create(path_, true); }
  EXPECT_EQ(read_matrix(path_).size(), 0u);
}

TEST_F(ResultStoreTest, RowsAreDurableBeforeTheStoreCloses) {
  auto store = ResultStore::create(path_, false);
  store->append_matrix_row(row("badnets", "none", 0.9, 1.0));
  // Another reader sees the flushed row while the writer still holds the file.
  EXPECT_EQ(read_matrix(path_).size(), 1u);
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

TEST(MatrixTable, FormatsCellsFailuresAndMissing) {
  std::vector<MatrixRow> rows{row("none", "none", 0.9, NAN), row("none", "ft", 0.8912, NAN),
                              row("badnets", "none", 0.9, 1.0)};
  MatrixRow failed = row("badnets", "ft", NAN, NAN);
  failed.status = "failed";
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
