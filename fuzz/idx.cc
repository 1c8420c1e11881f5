// IDX image and label files (MNIST, Fashion-MNIST), plain or gzip-compressed (zlib's gzread
// reads both; a seed of each kind is in the corpus). A refusal (pbe::Error) is the only outcome
// allowed besides success.
#include "core/data/idx_reader.h"
#include "fuzz/scratch_file.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = pbe::fuzz::scratch_dir() / "idx";
  pbe::fuzz::write_bytes(path, data, size);
  try {
    pbe::read_idx_images(path.string());
  } catch (const pbe::Error&) {
  }
  try {
    pbe::read_idx_labels(path.string());
  } catch (const pbe::Error&) {
  }
  return 0;
}
