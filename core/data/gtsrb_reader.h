#pragma once
#include <string>

#include "core/data/dataset.h"

namespace pbe {

// GTSRB (Stallkamp et al. 2012) in its official layout under `dir`:
//   Final_Training/Images/<class, 00000..00042>/GT-<class>.csv and its .ppm images;
//   Final_Test/Images/GT-final_test.csv (the annotated test CSV, GTSRB_Final_Test_GT.zip) and
//   the .ppm images it names.
// The CSVs are ';'-separated: Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId. Every
// image is resized whole (bilinear, the ROI not cropped, as BackdoorBench and the PBE release) to
// 32x32 RGB; 43 classes. Throws DataError naming the file (and line) for a missing directory,
// CSV or image, a CSV with another header or a malformed row, a class outside 0..42, or a
// training row whose ClassId is not its folder's. With `test_optional`, no test CSV gives an
// empty test split.
TrainTest load_gtsrb(const std::string& dir, bool test_optional = false);

constexpr int kGtsrbClasses = 43;
constexpr int kGtsrbSize = 32;

}  // namespace pbe
