#include "core/data/cifar10_reader.h"

#include <filesystem>
#include <fstream>

#include "core/data/dataset_source.h"
#include "core/data/registry.h"
#include "core/errors.h"

namespace pbe {
namespace {
constexpr int64_t kPixels = 3 * 32 * 32;
constexpr int64_t kRecord = kCifar10RecordBytes;
}  // namespace

std::string cifar10_train_batch(const std::string& dir, int i) {
  return (std::filesystem::path(dir) / ("data_batch_" + std::to_string(i) + ".bin")).string();
}

Dataset read_cifar10_batch(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw DataError(path + ": file not found");
  auto bytes = static_cast<int64_t>(std::filesystem::file_size(path));
  if (bytes == 0 || bytes % kRecord != 0)
    throw DataError(path + ": size " + std::to_string(bytes) +
                    " bytes is not a whole number of 3073-byte CIFAR-10 records (truncated?)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open");
  auto raw = torch::empty({bytes / kRecord, kRecord}, torch::kByte);
  if (!in.read(reinterpret_cast<char*>(raw.data_ptr<uint8_t>()), bytes))
    throw DataError(path + ": read failed");
  Dataset out;
  out.name = "cifar10";
  out.num_classes = 10;
  out.labels = raw.select(1, 0).to(torch::kLong).contiguous();
  out.images = raw.narrow(1, 1, kPixels).reshape({-1, 3, 32, 32}).contiguous();
  int64_t bad = out.labels.ge(10).sum().item<int64_t>();
  if (bad > 0) {
    int64_t row = out.labels.ge(10).nonzero()[0][0].item<int64_t>();
    throw DataError(path + ": record " + std::to_string(row) + " has label " +
                    std::to_string(out.labels[row].item<int64_t>()) + " (expected 0..9): corrupt");
  }
  return out;
}

TrainTest load_cifar10(const std::string& dir, bool test_optional) {
  namespace fs = std::filesystem;
  TrainTest out;
  std::vector<at::Tensor> images, labels;
  for (int i = 1; i <= 5; ++i) {
    Dataset part = read_cifar10_batch(cifar10_train_batch(dir, i));
    images.push_back(part.images);
    labels.push_back(part.labels);
  }
  out.train.name = "cifar10";
  out.train.num_classes = 10;
  out.train.images = torch::cat(images);
  out.train.labels = torch::cat(labels);
  const auto test_path = (fs::path(dir) / "test_batch.bin").string();
  out.test = test_optional && !fs::exists(test_path) ? out.train.subset(torch::empty({0}, torch::kLong))
                                                      : read_cifar10_batch(test_path);
  return out;
}

namespace {

// The release's training split is five batches of one fifth each.
void check_cifar10_batches(const std::string& dir, const Release& release) {
  for (int i = 1; i <= 5; ++i) {
    const auto file = cifar10_train_batch(dir, i);
    if (!std::filesystem::is_regular_file(file)) throw DataError(file + ": file not found");
    const auto records = static_cast<int64_t>(std::filesystem::file_size(file)) / kCifar10RecordBytes;
    if (records != release.train / 5)
      throw DataError(file + ": " + std::to_string(records) + " records, the release's batches have " +
                      std::to_string(release.train / 5));
  }
}

const bool registered = DatasetRegistry::instance().add([] {
  DatasetPlugin d;
  d.name = "cifar10";
  d.summary = "CIFAR-10 (Krizhevsky 2009): the binary batches data_batch_1..5.bin and test_batch.bin "
              "(scripts/get_cifar10.sh)";
  d.shape = [](const DatasetOptions&) { return ImageShape{3, 32, 32, 10}; };
  d.info = [](int) { return DatasetInfo{{0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}, Augmentation{4, true}}; };
  d.release = {50000, 10000, 10, true};
  d.load = [](const std::string& path, const DatasetOptions& o) { return load_cifar10(path, o.test_optional); };
  d.check_files = check_cifar10_batches;
  return d;
}());

}  // namespace

}  // namespace pbe
