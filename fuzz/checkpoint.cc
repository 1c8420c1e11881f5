// Checkpoints (OUTPUT.ckpt/*.pt), read as --resume reads them. Two kinds of input:
// - Odd first byte: the rest is a whole file, so that the header, its byte count and CRC-32 are
//   under test. A file whose checksum holds is skipped: only pbe_dist, or someone crafting one on
//   purpose, writes such a file, and checkpoints are trusted input.
// - Even first byte: tensors made from the input (names, any dtype, shape and values, NaNs
//   included, views with an offset and a stride), saved as save_checkpoint saves them, so that the
//   fuzzer reaches our checks of what the unpickling gives and what --resume does with it (a
//   model's state, a curve). The payload's zip and pickle are LibTorch's and are not fuzzed:
//   LibTorch reads past a crafted zip's buffer and allocates what a crafted pickle's memo index
//   asks for (docs/reliability.md).
// load_checkpoint must not throw; the loaders after it may refuse (std::runtime_error naming the
// file). load_optimizer_state is left out: its bytes are a LibTorch archive, a zip again.
#include <fuzzer/FuzzedDataProvider.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/nn/modules/linear.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/training/checkpoint.h"
#include "fuzz/scratch_file.h"

namespace {

// The payload save_checkpoint would write for the tensors the input describes.
std::vector<char> payload_of_tensors(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const char* const names[] = {"model/weight", "model/bias", "curve", "optimizer"};
  const at::ScalarType types[] = {at::kDouble, at::kFloat, at::kHalf, at::kLong, at::kInt, at::kByte, at::kBool};
  c10::Dict<std::string, at::Tensor> tensors;
  while (in.remaining_bytes() > 0 && tensors.size() < 6) {
    const std::string name = in.ConsumeBool() ? in.PickValueInArray(names) : in.ConsumeRandomLengthString(24);
    const at::ScalarType type = in.PickValueInArray(types);
    std::vector<int64_t> shape(in.ConsumeIntegralInRange(0, 3));
    for (auto& extent : shape) extent = in.ConsumeIntegralInRange<int64_t>(0, 16);
    at::Tensor t = at::zeros(shape, type == at::kBool ? at::kByte : type);
    const std::vector<uint8_t> bytes = in.ConsumeBytes<uint8_t>(t.nbytes());
    if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
    if (type == at::kBool) t = t.to(at::kBool);
    if (t.dim() > 0 && t.size(0) > 1 && in.ConsumeBool()) t = t.slice(0, 1, t.size(0), 2);
    tensors.insert_or_assign(name, t);
  }
  return torch::jit::pickle_save(c10::IValue(tensors));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const size_t header = pbe::checkpoint_bytes({}).size();
  std::vector<char> file;
  if (data[0] & 1) {
    file.assign(data + 1, data + size);
    if (file.size() >= header && pbe::checkpoint_bytes(std::vector<char>(file.begin() + header, file.end())) == file)
      return 0;  // a valid checksum: trusted input
  } else {
    file = pbe::checkpoint_bytes(payload_of_tensors(data + 1, size - 1));
  }
  const auto path = pbe::fuzz::scratch_dir() / "state.pt";
  pbe::fuzz::write_bytes(path, reinterpret_cast<const uint8_t*>(file.data()), file.size());
  std::string problem;
  const auto state = pbe::load_checkpoint(path.string(), problem);
  if (!state) return 0;
  try {
    torch::nn::Linear model(3, 2);
    pbe::load_model_state(*model, *state, path.string());
  } catch (const std::runtime_error&) {
  }
  try {
    for (const auto& [name, tensor] : *state)
      if (name == "curve") pbe::load_curve_state(tensor, path.string());
  } catch (const std::runtime_error&) {
  }
  return 0;
}
