#include "core/data/idx_reader.h"

#include <zlib.h>

#include <array>
#include <filesystem>
#include <optional>
#include <memory>

#include "core/data/dataset_source.h"
#include "core/data/registry.h"
#include "core/errors.h"
#include "util/memory.h"

namespace pbe {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

// A gzFile that closes itself; reads exactly n bytes or throws DataError naming the file.
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    if (!std::filesystem::is_regular_file(path)) throw DataError(path + ": file not found");
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) throw DataError(path + ": cannot open");
    gzbuffer(file_, 1 << 20);
  }
  ~GzReader() {
    if (file_) gzclose(file_);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  void read(void* dst, size_t n, const char* what) {
    size_t done = 0;
    auto* out = static_cast<unsigned char*>(dst);
    while (done < n) {
      unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
      int got = gzread(file_, out + done, chunk);
      if (got < 0) throw DataError(path_ + ": corrupt data while reading " + what + ": " + error());
      if (got == 0) {
        throw DataError(path_ + ": truncated: expected " + std::to_string(n) + " bytes of " + what +
                        ", got " + std::to_string(done));
      }
      done += static_cast<size_t>(got);
    }
  }

  // Throws "truncated" unless the rest of the file can hold `n` bytes of `what`: a plain file's
  // remaining size, or deflate's most (1032 to 1) of a gzip file's; so a header's counts never
  // make the reader allocate much more than the file could give.
  void check_available(double n, const char* what) {
    std::error_code ec;
    const double size = static_cast<double>(std::filesystem::file_size(path_, ec));
    const double most = (gzdirect(file_) ? size : 1032.0 * size) - static_cast<double>(gztell(file_));
    if (!ec && n > most)
      throw DataError(path_ + ": truncated: its header's counts need " + std::to_string(static_cast<uint64_t>(n)) +
                      " bytes of " + what + ", more than the file can hold");
  }

  uint32_t read_u32_be(const char* what) {
    std::array<unsigned char, 4> b{};
    read(b.data(), 4, what);
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  }

  // Throws unless the stream is at its end (trailing bytes mean the header lies).
  void expect_end() {
    unsigned char extra;
    int got = gzread(file_, &extra, 1);
    if (got < 0) throw DataError(path_ + ": corrupt data at end of file: " + error());
    if (got > 0) throw DataError(path_ + ": more data than the header's counts say");
  }

 private:
  std::string error() {
    int code = 0;
    const char* msg = gzerror(file_, &code);
    return msg ? msg : "unknown zlib error";
  }
  std::string path_;
  gzFile file_ = nullptr;
};

void check_magic(uint32_t magic, uint32_t expected, const std::string& path) {
  if (magic != expected) {
    char buf[96];
    std::snprintf(buf, sizeof buf, ": bad magic number 0x%08x (expected 0x%08x)", magic, expected);
    throw DataError(path + buf + ": not an IDX file of this kind");
  }
}

std::optional<std::string> locate(const std::string& dir, const std::string& stem) {
  for (const char* ext : {".gz", ""}) {
    std::string p = (std::filesystem::path(dir) / (stem + ext)).string();
    if (std::filesystem::is_regular_file(p)) return p;
  }
  return std::nullopt;
}

std::string find_file(const std::string& dir, const std::string& stem) {
  if (auto p = locate(dir, stem)) return *p;
  throw DataError((std::filesystem::path(dir) / (stem + ".gz")).string() + ": file not found");
}

}  // namespace

at::Tensor read_idx_images(const std::string& path) {
  GzReader in(path);
  check_magic(in.read_u32_be("header"), kImagesMagic, path);
  uint32_t n = in.read_u32_be("header"), rows = in.read_u32_be("header"),
           cols = in.read_u32_be("header");
  if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096)
    throw DataError(path + ": implausible image size " + std::to_string(rows) + "x" +
                    std::to_string(cols));
  if (const std::string problem = memory_problem(static_cast<double>(n) * rows * cols,
                                                 "its header's " + std::to_string(n) + " images of " + std::to_string(rows) +
                                                     "x" + std::to_string(cols));
      !problem.empty())
    throw DataError(path + ": " + problem);
  in.check_available(static_cast<double>(n) * rows * cols, "pixel data");
  auto images = torch::empty({int64_t{n}, 1, int64_t{rows}, int64_t{cols}}, torch::kByte);
  in.read(images.data_ptr<uint8_t>(), size_t{n} * rows * cols, "pixel data");
  in.expect_end();
  return images;
}

at::Tensor read_idx_labels(const std::string& path) {
  GzReader in(path);
  check_magic(in.read_u32_be("header"), kLabelsMagic, path);
  uint32_t n = in.read_u32_be("header");
  in.check_available(n, "labels");
  auto raw = torch::empty({int64_t{n}}, torch::kByte);
  in.read(raw.data_ptr<uint8_t>(), n, "labels");
  in.expect_end();
  return raw.to(torch::kLong);
}

TrainTest load_idx_dataset(const std::string& dir, const std::string& name, int num_classes,
                           bool test_optional) {
  TrainTest out;
  struct Split {
    Dataset* set;
    const char* prefix;
  };
  for (auto [set, prefix] : {Split{&out.train, "train"}, Split{&out.test, "t10k"}}) {
    if (set == &out.test && test_optional && !locate(dir, "t10k-images-idx3-ubyte") &&
        !locate(dir, "t10k-labels-idx1-ubyte")) {
      out.test = out.train.subset(torch::empty({0}, torch::kLong));
      continue;
    }
    std::string images_path = find_file(dir, std::string(prefix) + "-images-idx3-ubyte");
    std::string labels_path = find_file(dir, std::string(prefix) + "-labels-idx1-ubyte");
    set->name = name;
    set->num_classes = num_classes;
    set->images = read_idx_images(images_path);
    set->labels = read_idx_labels(labels_path);
    if (set->images.size(0) != set->labels.size(0))
      throw DataError(labels_path + ": " + std::to_string(set->labels.size(0)) +
                      " labels but " + images_path + " has " +
                      std::to_string(set->images.size(0)) + " images");
    set->validate(labels_path);
  }
  return out;
}

namespace {

DatasetPlugin idx_dataset(const char* name, const char* summary, std::vector<double> mean, std::vector<double> std,
                          std::string default_path, bool balanced) {
  DatasetPlugin d;
  d.name = name;
  d.summary = summary;
  d.shape = [](const DatasetOptions&) { return ImageShape{1, 28, 28, 10}; };
  d.info = [mean, std](int) { return DatasetInfo{mean, std, Augmentation{2, false}}; };
  d.default_path = std::move(default_path);
  d.release = {60000, 10000, 10, balanced};
  d.load = [name = std::string(name)](const std::string& path, const DatasetOptions& o) {
    return load_idx_dataset(path, name, 10, o.test_optional);
  };
  return d;
}

const bool registered =
    DatasetRegistry::instance().add(idx_dataset(
        "fashion-mnist", "Fashion-MNIST (Xiao et al. 2017), grey clothing images: the four IDX files, gzipped or not",
        {0.2860}, {0.3530}, "/usr/share/datasets/fashion-mnist", true)) &&
    DatasetRegistry::instance().add(idx_dataset(
        "mnist", "MNIST (LeCun et al. 1998), grey digits: the four IDX files, gzipped or not",
        {0.1307}, {0.3081}, "", false));

}  // namespace

}  // namespace pbe
