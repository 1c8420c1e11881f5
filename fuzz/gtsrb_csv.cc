// GTSRB's annotation CSV: the input is class 00000's GT-00000.csv in an otherwise empty GTSRB
// tree, so the reader parses every row before it looks for the images they name. A refusal
// (pbe::Error) is the only outcome allowed.
#include "core/data/gtsrb_reader.h"
#include "fuzz/scratch_file.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto dir = pbe::fuzz::scratch_dir() / "gtsrb";
  pbe::fuzz::write_bytes(dir / "Final_Training" / "Images" / "00000" / "GT-00000.csv", data, size);
  try {
    pbe::load_gtsrb(dir.string());
  } catch (const pbe::Error&) {
  }
  return 0;
}
