#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/data/idx_reader.h"
#include "core/errors.h"
#include "tests/temp_dir_test.h"

namespace fs = std::filesystem;
using namespace pbe;

namespace {

std::vector<uint8_t> be32(uint32_t v) {
  return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

std::vector<uint8_t> idx_images(uint32_t n, uint32_t rows, uint32_t cols) {
  std::vector<uint8_t> out = be32(0x803);
  for (uint32_t v : {n, rows, cols}) {
    auto b = be32(v);
    out.insert(out.end(), b.begin(), b.end());
  }
  for (uint32_t i = 0; i < n * rows * cols; ++i) out.push_back(uint8_t(i % 251));
  return out;
}

std::vector<uint8_t> idx_labels(uint32_t n) {
  std::vector<uint8_t> out = be32(0x801);
  auto b = be32(n);
  out.insert(out.end(), b.begin(), b.end());
  for (uint32_t i = 0; i < n; ++i) out.push_back(uint8_t(i % 10));
  return out;
}

void write_gz(const fs::path& p, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  gzclose(f);
}

void write_raw(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

class IdxReaderTest : public pbe::testing::TempDirTest {
 protected:
  void write_set(uint32_t train_n, uint32_t test_n) {
    write_gz(dir_ / "train-images-idx3-ubyte.gz", idx_images(train_n, 28, 28));
    write_gz(dir_ / "train-labels-idx1-ubyte.gz", idx_labels(train_n));
    write_gz(dir_ / "t10k-images-idx3-ubyte.gz", idx_images(test_n, 28, 28));
    write_gz(dir_ / "t10k-labels-idx1-ubyte.gz", idx_labels(test_n));
  }
  template <class F>
  std::string error_of(F f) {
    try {
      f();
    } catch (const DataError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected a DataError";
    return "";
  }
};

TEST_F(IdxReaderTest, ReadsGzippedImagesAndLabels) {
  write_set(7, 3);
  TrainTest d = load_idx_dataset(dir_.string(), "fashion-mnist");
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{7, 1, 28, 28}));
  EXPECT_EQ(d.test.size(), 3);
  EXPECT_EQ(d.train.images.flatten()[300].item<int>(), 300 % 251);
  EXPECT_EQ(d.train.labels[6].item<int64_t>(), 6);
  EXPECT_EQ(d.train.num_classes, 10);
}

TEST_F(IdxReaderTest, ReadsUncompressedFiles) {
  write_raw(dir_ / "imgs", idx_images(2, 4, 5));
  auto t = read_idx_images((dir_ / "imgs").string());
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{2, 1, 4, 5}));
  EXPECT_EQ(t.flatten()[39].item<int>(), 39);
}

TEST_F(IdxReaderTest, TruncatedPixelsNameTheFile) {
  auto bytes = idx_images(5, 28, 28);
  bytes.resize(bytes.size() - 100);
  write_gz(dir_ / "x.gz", bytes);
  auto msg = error_of([&] { read_idx_images((dir_ / "x.gz").string()); });
  EXPECT_NE(msg.find((dir_ / "x.gz").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

// fuzz/idx.cc's finding: a header claiming 17 GB of pixels in a few bytes made the reader
// allocate them before it found the file short. Now the counts are checked against what the file
// can hold (its size; for gzip, deflate's 1032:1 at most) before anything is allocated.
TEST_F(IdxReaderTest, CountsTheFileCannotHoldAreRefusedBeforeAllocating) {
  auto header = idx_images(0, 28, 28);
  const auto n = be32(100000);  // 78.4 MB of pixels claimed
  std::copy(n.begin(), n.end(), header.begin() + 4);
  header.resize(header.size() + 1000);
  write_raw(dir_ / "plain", header);
  write_gz(dir_ / "packed.gz", header);
  for (const char* name : {"plain", "packed.gz"}) {
    const auto msg = error_of([&] { read_idx_images((dir_ / name).string()); });
    EXPECT_EQ(msg, (dir_ / name).string() +
                       ": truncated: its header's counts need 78400000 bytes of pixel data, more than the file can hold");
  }
  auto labels = idx_labels(0);
  const auto many = be32(4000000000u);
  std::copy(many.begin(), many.end(), labels.begin() + 4);
  write_raw(dir_ / "labels", labels);
  EXPECT_NE(error_of([&] { read_idx_labels((dir_ / "labels").string()); }).find("need 4000000000 bytes of labels"),
            std::string::npos);
}

TEST_F(IdxReaderTest, TruncatedGzipStreamIsAnError) {
  write_gz(dir_ / "full.gz", idx_images(50, 28, 28));
  auto size = fs::file_size(dir_ / "full.gz");
  fs::resize_file(dir_ / "full.gz", size / 2);
  auto msg = error_of([&] { read_idx_images((dir_ / "full.gz").string()); });
  EXPECT_NE(msg.find("full.gz"), std::string::npos) << msg;
}

TEST_F(IdxReaderTest, CorruptGzipIsAnError) {
  write_gz(dir_ / "c.gz", idx_images(50, 28, 28));
  {
    std::fstream f(dir_ / "c.gz", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    const char junk[64] = "garbage garbage garbage garbage garbage garbage garbage garbag";
    f.write(junk, sizeof junk);
  }
  auto msg = error_of([&] { read_idx_images((dir_ / "c.gz").string()); });
  EXPECT_NE(msg.find("c.gz"), std::string::npos) << msg;
}

TEST_F(IdxReaderTest, WrongMagicIsAnError) {
  write_gz(dir_ / "labels.gz", idx_labels(4));
  auto msg = error_of([&] { read_idx_images((dir_ / "labels.gz").string()); });
  EXPECT_NE(msg.find("bad magic number 0x00000801"), std::string::npos) << msg;
}

TEST_F(IdxReaderTest, TrailingBytesAreAnError) {
  auto bytes = idx_labels(4);
  bytes.push_back(1);
  write_gz(dir_ / "l.gz", bytes);
  auto msg = error_of([&] { read_idx_labels((dir_ / "l.gz").string()); });
  EXPECT_NE(msg.find("more data than the header"), std::string::npos) << msg;
}

TEST_F(IdxReaderTest, CountMismatchBetweenImagesAndLabels) {
  write_set(7, 3);
  write_gz(dir_ / "train-labels-idx1-ubyte.gz", idx_labels(6));
  auto msg = error_of([&] { load_idx_dataset(dir_.string(), "mnist"); });
  EXPECT_NE(msg.find("6 labels"), std::string::npos) << msg;
  EXPECT_NE(msg.find("7 images"), std::string::npos) << msg;
}

TEST_F(IdxReaderTest, LabelOutOfRange) {
  write_set(7, 3);
  auto bytes = idx_labels(3);
  bytes.back() = 12;
  write_gz(dir_ / "t10k-labels-idx1-ubyte.gz", bytes);
  auto msg = error_of([&] { load_idx_dataset(dir_.string(), "mnist"); });
  EXPECT_NE(msg.find("t10k-labels-idx1-ubyte.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("label 12"), std::string::npos) << msg;
}

TEST_F(IdxReaderTest, AnOptionalTestSplitMayBeAbsentButNotHalfThere) {
  write_set(7, 3);
  std::filesystem::remove(dir_ / "t10k-images-idx3-ubyte.gz");
  std::filesystem::remove(dir_ / "t10k-labels-idx1-ubyte.gz");
  EXPECT_NE(error_of([&] { load_idx_dataset(dir_.string(), "mnist"); }).find("t10k-images-idx3-ubyte.gz: file not found"),
            std::string::npos);
  TrainTest d = load_idx_dataset(dir_.string(), "mnist", 10, /*test_optional=*/true);
  EXPECT_EQ(d.train.size(), 7);
  EXPECT_EQ(d.test.size(), 0);
  EXPECT_EQ(d.test.shape().height, 28);
  // Labels without images are a broken split, not an absent one.
  write_gz(dir_ / "t10k-labels-idx1-ubyte.gz", idx_labels(3));
  auto msg = error_of([&] { load_idx_dataset(dir_.string(), "mnist", 10, true); });
  EXPECT_NE(msg.find("t10k-images-idx3-ubyte.gz: file not found"), std::string::npos) << msg;
}

TEST_F(IdxReaderTest, MissingFileNamesThePath) {
  auto msg = error_of([&] { load_idx_dataset(dir_.string(), "mnist"); });
  EXPECT_NE(msg.find("train-images-idx3-ubyte.gz: file not found"), std::string::npos) << msg;
}

}  // namespace
