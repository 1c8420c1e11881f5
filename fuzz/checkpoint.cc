// Checkpoints (OUTPUT.ckpt/*.pt), read as --resume reads them. Half the inputs are whole files
// (the header, its byte count and CRC-32 under test); the other half are payloads given a valid
// header, so that the fuzzer gets past the checksum into the unpickling and into what --resume
// does with the tensors (a curve, a model's state). load_checkpoint must not throw; the loaders
// after it may refuse (std::runtime_error naming the file).
#include <stdexcept>
#include <vector>

#include "core/training/checkpoint.h"
#include "fuzz/scratch_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto path = pbe::fuzz::scratch_dir() / "state.pt";
  if (data[0] & 1) {
    pbe::fuzz::write_bytes(path, data + 1, size - 1);
  } else {
    const auto file = pbe::checkpoint_bytes(std::vector<char>(data + 1, data + size));
    pbe::fuzz::write_bytes(path, reinterpret_cast<const uint8_t*>(file.data()), file.size());
  }
  std::string problem;
  const auto state = pbe::load_checkpoint(path.string(), problem);
  if (!state) return 0;
  try {
    for (const auto& [name, tensor] : *state)
      if (name == "curve") pbe::load_curve_state(tensor, path.string());
  } catch (const std::runtime_error&) {
  }
  return 0;
}
