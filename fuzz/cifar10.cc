// A CIFAR-10 binary batch (label byte + 3072 pixel bytes per record). A refusal (pbe::Error) is
// the only outcome allowed besides success.
#include "core/data/cifar10_reader.h"
#include "fuzz/scratch_file.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = pbe::fuzz::scratch_dir() / "batch.bin";
  pbe::fuzz::write_bytes(path, data, size);
  try {
    pbe::read_cifar10_batch(path.string());
  } catch (const pbe::Error&) {
  }
  return 0;
}
