#pragma once
// Mixed precision: bf16 autocast, as torch.autocast(device_type, dtype=torch.bfloat16) in Python.
// Inside the scope, matrix multiplications and convolutions on that device type run in bf16 and
// precision-sensitive ops (losses, softmax, reductions) stay in float32; parameters, gradients
// and optimiser state stay float32, so no loss scaling is needed. The state is per thread.
// Unlike torch.autocast, the scope may span whole training loops (optimiser steps included): it
// turns autocast's weight-cast cache off, which would otherwise keep serving the bf16 copies of
// weights from before the steps (the cache is keyed by tensor and only cleared on scope exit).
#include <c10/core/DeviceType.h>

namespace pbe {

class BFloat16Autocast {
 public:
  // `enabled` false makes the scope a no-op, so callers need no branch.
  BFloat16Autocast(c10::DeviceType device_type, bool enabled);
  ~BFloat16Autocast();
  BFloat16Autocast(const BFloat16Autocast&) = delete;
  BFloat16Autocast& operator=(const BFloat16Autocast&) = delete;

 private:
  c10::DeviceType device_type_;
  bool enabled_;
  bool was_enabled_ = false;
  bool was_caching_ = true;
  c10::ScalarType previous_dtype_{};
};

// Autocast off for `device_type` in the scope, restored after: work that must stay float32 inside
// a bf16 run (data augmentation on the CPU, exact weight arithmetic).
class AutocastOff {
 public:
  explicit AutocastOff(c10::DeviceType device_type);
  ~AutocastOff();
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  c10::DeviceType device_type_;
  bool was_enabled_;
};

// Whether bf16 autocast is on for `device_type` in this thread.
bool bf16_autocast_enabled(c10::DeviceType device_type);

// Float32 convolutions and matrix products on CUDA GPUs: TF32 tensor cores (`on`: inputs rounded to
// a 10-bit mantissa, float32 accumulation) or IEEE float32. LibTorch's own default is TF32 for
// convolutions and IEEE for matrix products; the spec's `precision` sets both (tf32: on). For the
// whole process; no effect on the CPU.
void set_cuda_tf32(bool on);

}  // namespace pbe
