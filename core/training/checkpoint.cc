#include "core/training/checkpoint.h"

#include <torch/csrc/jit/serialization/pickle.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include <torch/serialize.h>

#include <ATen/ATen.h>

#include "core/errors.h"
#include "util/atomic_file.h"
#include "util/file_env.h"

namespace pbe {
namespace {

constexpr char kMagic[8] = {'P', 'B', 'E', 'C', 'K', 'P', 'T', '1'};
constexpr size_t kHeader = sizeof kMagic + sizeof(uint64_t) + sizeof(uint32_t);
constexpr int kCurveColumns = 7;  // epoch, lr, loss, train_acc, seconds, acc, asr

uint32_t crc_of(const char* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {  // crc32 takes uInt lengths
    const auto chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

}  // namespace

std::vector<char> checkpoint_bytes(const std::vector<char>& payload) {
  const uint64_t size = payload.size();
  const uint32_t crc = crc_of(payload.data(), payload.size());
  std::vector<char> file(kHeader + payload.size());
  std::memcpy(file.data(), kMagic, sizeof kMagic);
  std::memcpy(file.data() + sizeof kMagic, &size, sizeof size);
  std::memcpy(file.data() + sizeof kMagic + sizeof size, &crc, sizeof crc);
  if (!payload.empty()) std::memcpy(file.data() + kHeader, payload.data(), payload.size());
  return file;
}

void save_checkpoint(const std::string& path, const NamedTensors& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, t] : tensors) dict.insert(name, t.detach().cpu().contiguous());
  const std::vector<char> file = checkpoint_bytes(torch::jit::pickle_save(c10::IValue(dict)));
  try {
    write_atomically(path, [&](const std::string& tmp) { file_env().write_file(tmp, file.data(), file.size()); });
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": cannot write the checkpoint (" + e.what() + ")");
  }
}

namespace {
std::optional<NamedTensors> load(const std::string& path, std::string& problem, uint32_t& checksum);
}  // namespace

std::optional<NamedTensors> load_checkpoint(const std::string& path, std::string& problem) {
  uint32_t checksum = 0;
  return load(path, problem, checksum);
}

std::optional<NamedTensors> load_checkpoint_on_all(const std::string& path, ProcessGroup& group, std::string& problem) {
  uint32_t checksum = 0;
  auto state = load(path, problem, checksum);
  const int64_t mine = state ? static_cast<int64_t>(checksum) : -1;
  auto low = at::tensor({mine}, at::kLong), high = at::tensor({mine}, at::kLong);
  group.allreduce(low, ReduceOp::kMin);
  group.allreduce(high, ReduceOp::kMax);
  if (low.item<int64_t>() >= 0 && low.item<int64_t>() == high.item<int64_t>()) return state;
  if (state) problem = "another rank read another version of it";
  return std::nullopt;
}

namespace {

// Whether a tensor's view (sizes, strides and offset, which an unpickled tensor takes from the
// file) lies inside its storage: fuzz/checkpoint.cc found views that reach past it.
bool inside_storage(const at::Tensor& t) {
  if (!t.has_storage() || t.storage_offset() < 0) return false;
  if (t.numel() == 0) return true;
  double last = static_cast<double>(t.storage_offset());
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.stride(d) < 0) return false;
    last += static_cast<double>(t.size(d) - 1) * static_cast<double>(t.stride(d));
  }
  return (last + 1) * static_cast<double>(t.element_size()) <= static_cast<double>(t.storage().nbytes());
}

std::optional<NamedTensors> load(const std::string& path, std::string& problem, uint32_t& checksum) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problem = "no checkpoint";
    return std::nullopt;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    problem = "not a pbe-dist checkpoint (or truncated to " + std::to_string(bytes.size()) + " bytes)";
    return std::nullopt;
  }
  uint64_t size = 0;
  uint32_t crc = 0;
  std::memcpy(&size, bytes.data() + sizeof kMagic, sizeof size);
  std::memcpy(&crc, bytes.data() + sizeof kMagic + sizeof size, sizeof crc);
  if (bytes.size() - kHeader != size) {
    problem = "truncated: " + std::to_string(bytes.size() - kHeader) + " of " + std::to_string(size) + " payload bytes";
    return std::nullopt;
  }
  if (crc_of(bytes.data() + kHeader, size) != crc) {
    problem = "checksum mismatch (corrupt)";
    return std::nullopt;
  }
  checksum = crc;
  NamedTensors out;
  try {
    const auto dict = torch::jit::pickle_load(std::vector<char>(bytes.begin() + kHeader, bytes.end())).toGenericDict();
    for (const auto& item : dict) out.emplace_back(item.key().toStringRef(), item.value().toTensor());
  } catch (const std::exception& e) {
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    const std::string what = c10_error ? c10_error->what_without_backtrace() : e.what();
    problem = "unreadable payload: " + what.substr(0, what.find('\n'));
    return std::nullopt;
  }
  for (const auto& [name, t] : out)
    if (!inside_storage(t)) {
      problem = "corrupt: tensor '" + name + "' lies outside its data";
      return std::nullopt;
    }
  return out;
}

}  // namespace

const at::Tensor& checkpoint_tensor(const NamedTensors& tensors, const std::string& name, const std::string& path) {
  for (const auto& [n, t] : tensors)
    if (n == name) return t;
  throw std::runtime_error(path + ": checkpoint has no '" + name + "'");
}

NamedTensors model_state(torch::nn::Module& model, const std::string& prefix) {
  NamedTensors state;
  for (const auto& p : model.named_parameters()) state.emplace_back(prefix + p.key(), p.value());
  for (const auto& b : model.named_buffers()) state.emplace_back(prefix + b.key(), b.value());
  return state;
}

void load_model_state(torch::nn::Module& model, const NamedTensors& tensors, const std::string& path,
                      const std::string& prefix) {
  const auto describe = [](const at::Tensor& t) {
    std::ostringstream out;
    out << t.scalar_type() << " " << t.sizes();
    return out.str();
  };
  // Every tensor is checked before any is copied, so a refused checkpoint leaves the model as it was.
  std::vector<std::pair<at::Tensor, const at::Tensor*>> copies;
  for (const auto& entries : {model.named_parameters(), model.named_buffers()})
    for (const auto& e : entries) {
      const at::Tensor& saved = checkpoint_tensor(tensors, prefix + e.key(), path);
      if (saved.sizes() != e.value().sizes() || saved.scalar_type() != e.value().scalar_type())
        throw std::runtime_error(path + ": checkpoint's '" + prefix + e.key() + "' is " + describe(saved) +
                                 ", the model's " + describe(e.value()));
      copies.emplace_back(e.value(), &saved);
    }
  torch::NoGradGuard no_grad;
  for (auto& [target, saved] : copies) target.copy_(*saved);
}

at::Tensor optimizer_state(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  const std::string s = bytes.str();
  return torch::from_blob(const_cast<char*>(s.data()), {static_cast<int64_t>(s.size())}, torch::kByte).clone();
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const at::Tensor& bytes, torch::Device device,
                          const std::string& path) {
  if (bytes.scalar_type() != torch::kByte || bytes.dim() != 1)
    throw std::runtime_error(path + ": checkpoint's optimiser state is not a byte string");
  std::istringstream in(std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.numel())));
  torch::serialize::InputArchive archive;
  archive.load_from(in, device);
  optimizer.load(archive);
}

at::Tensor curve_state(const TrainCurve& curve) {
  auto rows = torch::empty({static_cast<int64_t>(curve.size()), kCurveColumns}, torch::kDouble);
  auto r = rows.accessor<double, 2>();
  for (size_t i = 0; i < curve.size(); ++i) {
    const auto& e = curve[i];
    const double v[kCurveColumns] = {static_cast<double>(e.epoch), e.lr, e.loss, e.train_acc, e.seconds, e.eval.acc, e.eval.asr};
    for (int c = 0; c < kCurveColumns; ++c) r[static_cast<int64_t>(i)][c] = v[c];
  }
  return rows;
}

TrainCurve load_curve_state(const at::Tensor& rows, const std::string& path) {
  if (rows.scalar_type() != torch::kDouble || rows.dim() != 2 || rows.size(1) != kCurveColumns)
    throw std::runtime_error(path + ": checkpoint's curve is not a double [epochs, " + std::to_string(kCurveColumns) + "] table");
  auto r = rows.accessor<double, 2>();
  TrainCurve curve;
  for (int64_t i = 0; i < rows.size(0); ++i) {
    const double epoch = r[i][0];
    if (!(epoch >= 0 && epoch <= std::numeric_limits<int>::max()) || epoch != std::floor(epoch)) {
      std::ostringstream what;
      what << path << ": checkpoint's curve has epoch " << epoch << " in row " << i;
      throw std::runtime_error(what.str());
    }
    EpochRecord e;
    e.epoch = static_cast<int>(epoch);
    e.lr = r[i][1];
    e.loss = r[i][2];
    e.train_acc = r[i][3];
    e.seconds = r[i][4];
    e.eval.acc = r[i][5];
    e.eval.asr = r[i][6];
    curve.push_back(e);
  }
  return curve;
}

}  // namespace pbe
