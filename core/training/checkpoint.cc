#include "core/training/checkpoint.h"

#include <torch/csrc/jit/serialization/pickle.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include <ATen/ATen.h>

#include "core/errors.h"
#include "util/atomic_file.h"

namespace pbe {
namespace {

constexpr char kMagic[8] = {'P', 'B', 'E', 'C', 'K', 'P', 'T', '1'};
constexpr size_t kHeader = sizeof kMagic + sizeof(uint64_t) + sizeof(uint32_t);

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

void save_checkpoint(const std::string& path, const NamedTensors& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, t] : tensors) dict.insert(name, t.detach().cpu().contiguous());
  const std::vector<char> payload = torch::jit::pickle_save(c10::IValue(dict));
  const uint64_t size = payload.size();
  const uint32_t crc = crc_of(payload.data(), payload.size());
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char*>(&size), sizeof size);
    out.write(reinterpret_cast<const char*>(&crc), sizeof crc);
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    if (!out) throw std::runtime_error(path + ": cannot write checkpoint (disk full?)");
  });
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
    problem = std::string("unreadable payload: ") + e.what();
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

NamedTensors model_state(torch::nn::Module& model) {
  NamedTensors state;
  for (const auto& p : model.named_parameters()) state.emplace_back("model/" + p.key(), p.value());
  for (const auto& b : model.named_buffers()) state.emplace_back("model/" + b.key(), b.value());
  return state;
}

void load_model_state(torch::nn::Module& model, const NamedTensors& tensors, const std::string& path) {
  torch::NoGradGuard no_grad;
  for (const auto& p : model.named_parameters()) p.value().copy_(checkpoint_tensor(tensors, "model/" + p.key(), path));
  for (const auto& b : model.named_buffers()) b.value().copy_(checkpoint_tensor(tensors, "model/" + b.key(), path));
}

}  // namespace pbe
