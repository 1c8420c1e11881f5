#pragma once
// Thin RAII and checking layer over the HDF5 C API; the only file that knows HDF5's handle rules.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pbe::h5 {

// Owns one hid_t and closes it with the right H5*close for its type.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }  // the caller closes it
  operator hid_t() const { return id_; }  // NOLINT: handles are passed straight to the C API
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Returns `id` as a Handle, or throws StorageError "<context>: <what> failed" if it is negative,
// followed by ": <the system's reason>" when HDF5's error stack has one (a full disk).
Handle checked(hid_t id, const std::string& context, const char* what);
// Throws StorageError "<context>: <what> failed[: <reason>]" if status < 0.
void check(herr_t status, const std::string& context, const char* what);

// StorageError "<context>: <what> is not a single value" unless the dataspace `space` holds
// exactly one element (the readers of scalars check it before reading into one).
void check_single(hid_t space, const std::string& context, const std::string& what);

// Turns off HDF5's own error printing (we report through exceptions); call once per process.
void silence_library_errors();

Handle variable_string_type();  // vlen UTF-8

// Opens `path` inside `parent`, creating missing groups on the way.
Handle open_or_create_group(hid_t parent, const std::string& path, const std::string& context);
bool exists(hid_t parent, const std::string& path);

void write_attr(hid_t obj, const std::string& name, const std::string& value, const std::string& context);
void write_attr(hid_t obj, const std::string& name, double value, const std::string& context);
void write_attr(hid_t obj, const std::string& name, int64_t value, const std::string& context);
void write_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                const std::string& context);
std::string read_string_attr(hid_t obj, const std::string& name, const std::string& context);
double read_double_attr(hid_t obj, const std::string& name, const std::string& context);

// 1-D or N-D datasets; uint8/float ones are chunked and deflate-compressed.
void write_dataset(hid_t parent, const std::string& name, const std::vector<double>& values,
                   const std::string& context);
void write_dataset(hid_t parent, const std::string& name, const std::vector<uint8_t>& values,
                   const std::string& context);
void write_dataset(hid_t parent, const std::string& name, const std::vector<float>& values,
                   const std::vector<hsize_t>& shape, const std::string& context);
void write_string_dataset(hid_t parent, const std::string& name, const std::string& text,
                          const std::string& context);
std::string read_string_dataset(hid_t parent, const std::string& name, const std::string& context);

}  // namespace pbe::h5

namespace pbe::h5 {
// "1.10.8": the HDF5 library this process runs with.
std::string library_version();
}  // namespace pbe::h5
