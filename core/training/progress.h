#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace pbe {

// One step of long work, reported by core/ to whoever shows progress (the launcher, rank 0).
struct ProgressEvent {
  std::string phase;    // e.g. "train", "finetune"
  int epoch = 0;        // 0-based
  int epochs = 0;
  int64_t batch = 0;    // 1-based batches done in this epoch
  int64_t batches = 0;
  // Image passes so far in this phase (global, all ranks): an image trained once is one; an
  // adversarial example of k PGD steps is 1 + k (the work estimates count the same way).
  int64_t images = 0;
  // Image passes of this phase a checkpoint held, so not run again (a resumed training's first
  // epochs): done, but not part of this run's throughput.
  int64_t resumed_images = 0;
};
using ProgressFn = std::function<void(const ProgressEvent&)>;

}  // namespace pbe
