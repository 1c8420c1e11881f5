#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/data/release_check.h"
#include "core/errors.h"
#include "tests/temp_dir_test.h"

namespace fs = std::filesystem;
using namespace pbe;

namespace {

// A release in miniature: 20 training images in five batches of 4, 10 test images, two of each
// class in training and one in test, as CIFAR-10's 5,000 and 1,000.
const Release kMini{20, 10, 10, true};

void write_batch(const fs::path& p, int records, int first_label) {
  std::ofstream f(p, std::ios::binary);
  for (int r = 0; r < records; ++r) {
    f.put(char((first_label + r) % 10));
    for (int i = 0; i < 3072; ++i) f.put(char((r * 7 + i) % 256));
  }
}

class ReleaseCheckTest : public pbe::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    for (int b = 0; b < 5; ++b) write_batch(batch(b + 1), 4, 4 * b);
    write_batch(dir_ / "test_batch.bin", 10, 0);
  }
  fs::path batch(int i) const { return dir_ / ("data_batch_" + std::to_string(i) + ".bin"); }
  std::string error() const {
    try {
      check_release("cifar10", dir_.string(), kMini);
    } catch (const DataError& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST_F(ReleaseCheckTest, TheWholeReleaseGivesItsClassCounts) {
  ReleaseCounts counts = check_release("cifar10", dir_.string(), kMini);
  EXPECT_EQ(counts.train_per_class, std::vector<int64_t>(10, 2));
  EXPECT_EQ(counts.test_per_class, std::vector<int64_t>(10, 1));
  EXPECT_EQ(counts.train(), 20);
  EXPECT_EQ(counts.test(), 10);
}

TEST_F(ReleaseCheckTest, ABatchOfTheWrongSizeIsNamed) {
  write_batch(batch(2), 3, 4);
  EXPECT_EQ(error(), (dir_ / "data_batch_2.bin").string() + ": 3 records, the release's batches have 4");
}

TEST_F(ReleaseCheckTest, ACopiedBatchUnbalancesTheClasses) {
  fs::copy_file(batch(1), batch(2), fs::copy_options::overwrite_existing);
  EXPECT_NE(error().find(dir_.string() + ": class 0 has 3 training images, the release has 2 of each"),
            std::string::npos)
      << error();
}

TEST_F(ReleaseCheckTest, APartialTestSplitIsNamed) {
  write_batch(dir_ / "test_batch.bin", 9, 0);
  EXPECT_NE(error().find(dir_.string() + ": 9 test images, the release has 10"), std::string::npos) << error();
}

TEST_F(ReleaseCheckTest, AMissingClassIsNamed) {
  // Ten test images, but class 9 replaced by class 0.
  write_batch(dir_ / "test_batch.bin", 9, 0);
  { std::ofstream(dir_ / "test_batch.bin", std::ios::binary | std::ios::app).put(0).write(std::string(3072, 'x').data(), 3072); }
  EXPECT_EQ(error(), dir_.string() + ": no test image of class 9");
}

TEST_F(ReleaseCheckTest, ReaderErrorsNameTheFile) {
  fs::remove(dir_ / "test_batch.bin");
  EXPECT_EQ(error(), (dir_ / "test_batch.bin").string() + ": file not found");
  write_batch(dir_ / "test_batch.bin", 10, 0);
  {
    std::fstream f(batch(4), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * 3073);
    f.put(char(10));
  }
  EXPECT_EQ(error(), (dir_ / "data_batch_4.bin").string() + ": record 2 has label 10 (expected 0..9): corrupt");
}

TEST(ReleaseCheck, OfficialReleases) {
  EXPECT_EQ(official_release("cifar10").train, 50000);
  EXPECT_EQ(official_release("cifar10").test, 10000);
  EXPECT_TRUE(official_release("fashion-mnist").balanced);
  EXPECT_FALSE(official_release("mnist").balanced);
  EXPECT_EQ(official_release("gtsrb").classes, 43);
  EXPECT_EQ(official_release("synthetic").train, 0);
  EXPECT_THROW(check_release("synthetic", "/tmp", official_release("synthetic")), ConfigError);
}

}  // namespace
