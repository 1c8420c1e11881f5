#include "core/data/gtsrb_reader.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/data/dataset_source.h"
#include "core/data/netpbm_reader.h"
#include "core/data/registry.h"
#include "core/errors.h"

namespace pbe {
namespace fs = std::filesystem;
namespace {

const char* const kHeader = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId";

struct Annotated {
  fs::path image;
  int64_t label = 0;
};

// The rows of one annotation CSV; images are named relative to the CSV's directory.
std::vector<Annotated> read_csv(const fs::path& csv, int expected_class) {
  std::ifstream in(csv);
  if (!in) throw DataError(csv.string() + ": cannot read the annotation CSV");
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != kHeader) throw DataError(csv.string() + ":1: expected the header '" + kHeader + "'");
  std::vector<Annotated> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string f; std::getline(split, f, ';');) fields.push_back(f);
    const std::string where = csv.string() + ":" + std::to_string(number) + ": ";
    if (fields.size() != 8) throw DataError(where + "expected 8 ';'-separated fields, got " + std::to_string(fields.size()));
    int label = -1;
    size_t used = 0;
    try {
      label = std::stoi(fields[7], &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != fields[7].size()) throw DataError(where + "ClassId '" + fields[7] + "' is not a number");
    if (label < 0 || label >= kGtsrbClasses)
      throw DataError(where + "ClassId " + std::to_string(label) + " outside 0.." + std::to_string(kGtsrbClasses - 1));
    if (expected_class >= 0 && label != expected_class)
      throw DataError(where + "ClassId " + std::to_string(label) + " in the folder of class " + std::to_string(expected_class));
    if (fields[0].empty() || fields[0].find('/') != std::string::npos)
      throw DataError(where + "bad Filename '" + fields[0] + "'");
    rows.push_back({csv.parent_path() / fields[0], label});
  }
  return rows;
}

Dataset read_images(const std::vector<Annotated>& rows, const std::string& name) {
  Dataset d;
  d.name = name;
  d.num_classes = kGtsrbClasses;
  d.images = torch::empty({static_cast<int64_t>(rows.size()), 3, kGtsrbSize, kGtsrbSize}, torch::kByte);
  d.labels = torch::empty({static_cast<int64_t>(rows.size())}, torch::kLong);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto image = fit_image(read_netpbm(rows[i].image.string()), 3, kGtsrbSize, kGtsrbSize);
    d.images[static_cast<int64_t>(i)].copy_(to_uint8(image));
    d.labels[static_cast<int64_t>(i)] = rows[i].label;
  }
  return d;
}

}  // namespace

TrainTest load_gtsrb(const std::string& dir, bool test_optional) {
  const fs::path train_dir = fs::path(dir) / "Final_Training" / "Images";
  if (!fs::is_directory(train_dir)) throw DataError(train_dir.string() + ": not found (GTSRB's Final_Training/Images)");
  std::vector<fs::path> class_dirs;
  for (const auto& e : fs::directory_iterator(train_dir))
    if (e.is_directory()) class_dirs.push_back(e.path());
  std::sort(class_dirs.begin(), class_dirs.end());
  if (class_dirs.empty()) throw DataError(train_dir.string() + ": no class folders (00000..00042)");
  std::vector<Annotated> train;
  for (const auto& c : class_dirs) {
    const std::string folder = c.filename().string();
    int label = -1;
    try {
      label = std::stoi(folder);
    } catch (const std::exception&) {
    }
    if (label < 0 || label >= kGtsrbClasses || folder.size() != 5)
      throw DataError(c.string() + ": not a class folder (00000..00042)");
    const auto rows = read_csv(c / ("GT-" + folder + ".csv"), label);
    train.insert(train.end(), rows.begin(), rows.end());
  }
  TrainTest out;
  out.train = read_images(train, "gtsrb");
  const fs::path test_csv = fs::path(dir) / "Final_Test" / "Images" / "GT-final_test.csv";
  if (!fs::exists(test_csv) && test_optional) {
    out.test = out.train.subset(torch::empty({0}, torch::kLong));
  } else {
    if (!fs::exists(test_csv))
      throw DataError(test_csv.string() + ": not found (the annotated test CSV, from GTSRB_Final_Test_GT.zip)");
    out.test = read_images(read_csv(test_csv, -1), "gtsrb");
  }
  return out;
}

namespace {

const bool registered = DatasetRegistry::instance().add([] {
  DatasetPlugin d;
  d.name = "gtsrb";
  d.summary = "GTSRB (Stallkamp et al. 2012), traffic signs resized whole to 32x32: the official "
              "Final_Training/Final_Test layout with GT-final_test.csv";
  d.shape = [](const DatasetOptions&) { return ImageShape{3, kGtsrbSize, kGtsrbSize, kGtsrbClasses}; };
  // BackdoorBench's statistics; no flips for traffic signs.
  d.info = [](int) { return DatasetInfo{{0.3403, 0.3121, 0.3214}, {0.2724, 0.2608, 0.2669}, Augmentation{4, false}}; };
  d.release = {39209, 12630, kGtsrbClasses, false};
  d.load = [](const std::string& path, const DatasetOptions& o) { return load_gtsrb(path, o.test_optional); };
  return d;
}());

}  // namespace

}  // namespace pbe
