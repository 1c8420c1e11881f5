// PGM/PPM images: trigger images and GTSRB's pictures, read and fitted to 3x32x32 as the
// readers do. A refusal (pbe::Error) is the only outcome allowed besides success.
#include "core/data/netpbm_reader.h"
#include "fuzz/scratch_file.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = pbe::fuzz::scratch_dir() / "image.ppm";
  pbe::fuzz::write_bytes(path, data, size);
  try {
    pbe::fit_image(pbe::read_netpbm(path.string()), 3, 32, 32);
  } catch (const pbe::Error&) {
  }
  return 0;
}
