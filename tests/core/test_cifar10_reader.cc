#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/data/cifar10_reader.h"
#include "core/errors.h"
#include "tests/temp_dir_test.h"

namespace fs = std::filesystem;
using namespace pbe;

namespace {

void write_batch(const fs::path& p, int records, int first_label) {
  std::ofstream f(p, std::ios::binary);
  for (int r = 0; r < records; ++r) {
    char label = char((first_label + r) % 10);
    f.put(label);
    for (int i = 0; i < 3072; ++i) f.put(char((r + i) % 256));
  }
}

class Cifar10ReaderTest : public pbe::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    for (int i = 1; i <= 5; ++i) write_batch(dir_ / ("data_batch_" + std::to_string(i) + ".bin"), 4, i);
    write_batch(dir_ / "test_batch.bin", 3, 0);
  }
};

TEST_F(Cifar10ReaderTest, ReadsAllBatchesChannelPlanes) {
  TrainTest d = load_cifar10(dir_.string());
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{20, 3, 32, 32}));
  EXPECT_EQ(d.test.size(), 3);
  EXPECT_EQ(d.train.labels[0].item<int64_t>(), 1);   // batch 1, record 0
  EXPECT_EQ(d.train.labels[4].item<int64_t>(), 2);   // batch 2, record 0
  // Record 1 of the test batch: pixel i holds (1 + i) % 256; green plane starts at byte 1024.
  EXPECT_EQ(d.test.images[1][1][0][0].item<int>(), (1 + 1024) % 256);
  EXPECT_EQ(d.test.images[1][0][1][2].item<int>(), (1 + 34) % 256);
}

TEST_F(Cifar10ReaderTest, TruncatedBatchNamesTheFile) {
  fs::resize_file(dir_ / "data_batch_3.bin", 4 * 3073 - 10);
  try {
    load_cifar10(dir_.string());
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("data_batch_3.bin"), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  }
}

TEST_F(Cifar10ReaderTest, CorruptLabelIsAnError) {
  {
    std::fstream f(dir_ / "test_batch.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3073);
    f.put(char(200));
  }
  try {
    load_cifar10(dir_.string());
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("test_batch.bin: record 1 has label 200"), std::string::npos) << msg;
  }
}

TEST_F(Cifar10ReaderTest, MissingBatch) {
  fs::remove(dir_ / "data_batch_5.bin");
  EXPECT_THROW(load_cifar10(dir_.string()), DataError);
}

}  // namespace
