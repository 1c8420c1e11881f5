#include "core/models/autocast.h"

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "core/errors.h"

// LibTorch 2.4+ takes the device type; before, one function per device type. 2.11 sets TF32 per
// backend and operation; 1.13 (kept for comparison builds) has one switch per library. This file is
// the only place that knows.
namespace pbe {
namespace {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool is_on(c10::DeviceType t) { return at::autocast::is_autocast_enabled(t); }
void set_on(c10::DeviceType t, bool on) { at::autocast::set_autocast_enabled(t, on); }
c10::ScalarType get_dtype(c10::DeviceType t) { return at::autocast::get_autocast_dtype(t); }
void set_dtype(c10::DeviceType t, c10::ScalarType d) { at::autocast::set_autocast_dtype(t, d); }
#else
bool is_on(c10::DeviceType t) { return t == c10::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void set_on(c10::DeviceType t, bool on) {
  if (t == c10::kCUDA) at::autocast::set_enabled(on);
  else at::autocast::set_cpu_enabled(on);
}
c10::ScalarType get_dtype(c10::DeviceType t) {
  return t == c10::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_dtype(c10::DeviceType t, c10::ScalarType d) {
  if (t == c10::kCUDA) at::autocast::set_autocast_gpu_dtype(d);
  else at::autocast::set_autocast_cpu_dtype(d);
}
#endif

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 11)
void set_tf32(bool on) {
  const auto p = on ? at::Float32Precision::TF32 : at::Float32Precision::IEEE;
  at::globalContext().setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::CONV, p);
  at::globalContext().setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL, p);
}
#else
void set_tf32(bool on) {
  at::globalContext().setAllowTF32CuDNN(on);
  at::globalContext().setAllowTF32CuBLAS(on);
}
#endif

}  // namespace

BFloat16Autocast::BFloat16Autocast(c10::DeviceType device_type, bool enabled)
    : device_type_(device_type), enabled_(enabled) {
  if (!enabled_) return;
  if (device_type != c10::kCPU && device_type != c10::kCUDA)
    throw ConfigError("bf16 autocast is available on cpu and cuda only");
  was_enabled_ = is_on(device_type_);
  previous_dtype_ = get_dtype(device_type_);
  was_caching_ = at::autocast::is_autocast_cache_enabled();
  set_on(device_type_, true);
  set_dtype(device_type_, c10::kBFloat16);
  at::autocast::set_autocast_cache_enabled(false);
  at::autocast::increment_nesting();
}

BFloat16Autocast::~BFloat16Autocast() {
  if (!enabled_) return;
  // As torch.autocast's __exit__: the cast weights cached for this scope go with the outermost one.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_on(device_type_, was_enabled_);
  set_dtype(device_type_, previous_dtype_);
  at::autocast::set_autocast_cache_enabled(was_caching_);
}

AutocastOff::AutocastOff(c10::DeviceType device_type) : device_type_(device_type), was_enabled_(is_on(device_type)) {
  if (was_enabled_) set_on(device_type_, false);
}

AutocastOff::~AutocastOff() {
  if (was_enabled_) set_on(device_type_, true);
}

bool bf16_autocast_enabled(c10::DeviceType device_type) {
  return is_on(device_type) && get_dtype(device_type) == c10::kBFloat16;
}

void set_cuda_tf32(bool on) { set_tf32(on); }

}  // namespace pbe
