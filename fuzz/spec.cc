// The YAML spec, through the parser pbe_dist uses: parse_spec_text reads the YAML and checks every
// key up to the validated ExperimentSpec, as `pbe_dist run` and `plan` do before any work. It may
// refuse a spec with ConfigError (one line naming the file, line and key); any other exception,
// a crash or a sanitizer report is a finding.
#include <string>

#include "core/errors.h"
#include "launcher/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    pbe::parse_spec_text(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  } catch (const pbe::ConfigError&) {
  }
  return 0;
}
