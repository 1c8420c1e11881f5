// GTSRB's official layout on a tiny generated tree: PPM images of their own sizes under class
// folders with their GT-<class>.csv, the annotated test CSV; images resized to 32x32 RGB with the
// CSV's labels. Malformed CSVs, a mislabelled row and a missing image are named with file and line.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "core/data/gtsrb_reader.h"
#include "core/errors.h"
#include "tests/temp_dir_test.h"

using namespace pbe;
namespace fs = std::filesystem;

namespace {

const char* const kHeader = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n";

// A w x h PPM of one colour.
void write_ppm(const fs::path& path, int w, int h, unsigned char r, unsigned char g, unsigned char b) {
  std::ofstream out(path, std::ios::binary);
  out << "P6\n" << w << " " << h << "\n255\n";
  for (int i = 0; i < w * h; ++i) out << r << g << b;
}

class GtsrbTest : public pbe::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    // Class 0: two red images; class 2: one blue (40x35). Test: green of class 2, red of class 0.
    const fs::path c0 = dir_ / "Final_Training/Images/00000", c2 = dir_ / "Final_Training/Images/00002";
    const fs::path test = dir_ / "Final_Test/Images";
    for (const auto& d : {c0, c2, test}) fs::create_directories(d);
    write_ppm(c0 / "00000_00000.ppm", 30, 31, 200, 0, 0);
    write_ppm(c0 / "00000_00001.ppm", 45, 50, 200, 0, 0);
    write_ppm(c2 / "00000_00000.ppm", 40, 35, 0, 0, 255);
    std::ofstream(c0 / "GT-00000.csv") << kHeader << "00000_00000.ppm;30;31;5;5;25;26;0\r\n00000_00001.ppm;45;50;5;5;40;45;0\r\n";
    std::ofstream(c2 / "GT-00002.csv") << kHeader << "00000_00000.ppm;40;35;5;5;35;30;2\n";
    write_ppm(test / "00000.ppm", 33, 33, 0, 128, 0);
    write_ppm(test / "00001.ppm", 60, 61, 200, 0, 0);
    std::ofstream(test / "GT-final_test.csv") << kHeader << "00000.ppm;33;33;5;5;28;28;2\n00001.ppm;60;61;5;5;55;56;0\n";
  }
  std::string error_of() {
    try {
      load_gtsrb(dir_.string());
    } catch (const DataError& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST_F(GtsrbTest, ReadsTheOfficialLayoutResizedTo32) {
  const TrainTest d = load_gtsrb(dir_.string());
  d.train.validate("train");
  d.test.validate("test");
  EXPECT_EQ(d.train.num_classes, 43);
  EXPECT_EQ(d.train.images.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  EXPECT_TRUE(torch::equal(d.train.labels, torch::tensor({0, 0, 2}, torch::kLong)));
  EXPECT_TRUE(torch::equal(d.test.labels, torch::tensor({2, 0}, torch::kLong)));
  // One colour stays that colour through the resize.
  EXPECT_TRUE(d.train.images[2][2].eq(255).all().item<bool>());
  EXPECT_TRUE(d.train.images[2][0].eq(0).all().item<bool>());
  EXPECT_TRUE(d.test.images[0][1].eq(128).all().item<bool>());
  EXPECT_TRUE(d.test.images[1][0].eq(200).all().item<bool>());
}

TEST_F(GtsrbTest, MalformedAnnotationsAreNamedWithFileAndLine) {
  const fs::path csv = dir_ / "Final_Training/Images/00002/GT-00002.csv";
  std::ofstream(csv) << kHeader << "00000_00000.ppm;40;35;5;5;35;30;two\n";
  EXPECT_EQ(error_of(), csv.string() + ":2: ClassId 'two' is not a number");
  std::ofstream(csv) << kHeader << "00000_00000.ppm;40;35;5;5;35\n";
  EXPECT_EQ(error_of(), csv.string() + ":2: expected 8 ';'-separated fields, got 6");
  std::ofstream(csv) << kHeader << "00000_00000.ppm;40;35;5;5;35;30;3\n";
  EXPECT_EQ(error_of(), csv.string() + ":2: ClassId 3 in the folder of class 2");
  std::ofstream(csv) << kHeader << "00000_00000.ppm;40;35;5;5;35;30;43\n";
  EXPECT_EQ(error_of(), csv.string() + ":2: ClassId 43 outside 0..42");
  std::ofstream(csv) << "Filename,Width,Height\n";
  EXPECT_NE(error_of().find(csv.string() + ":1: expected the header"), std::string::npos);
  std::ofstream(csv) << kHeader << "gone.ppm;40;35;5;5;35;30;2\n";
  EXPECT_NE(error_of().find("gone.ppm"), std::string::npos);
}

TEST_F(GtsrbTest, MissingPartsAreNamed) {
  fs::remove(dir_ / "Final_Test/Images/GT-final_test.csv");
  EXPECT_NE(error_of().find("GT-final_test.csv: not found"), std::string::npos);
  EXPECT_EQ(load_gtsrb(dir_.string(), /*test_optional=*/true).test.size(), 0);
  fs::create_directories(dir_ / "Final_Training/Images/stray");
  EXPECT_NE(error_of().find("stray: not a class folder"), std::string::npos);
  fs::remove_all(dir_ / "Final_Training");
  EXPECT_NE(error_of().find("Final_Training/Images: not found"), std::string::npos);
}

}  // namespace
