#include "storage/h5.h"

#include <algorithm>
#include <string>

#include "storage/storage_error.h"

namespace pbe::h5 {

void Handle::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = H5I_INVALID_HID;
}

namespace {

// The system's reason for HDF5's latest failure ("No space left on device"), which its file
// driver leaves on the error stack as "... error message = '<strerror>' ..."; "" when it holds none.
std::string system_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        auto& r = *static_cast<std::string*>(data);
        if (!r.empty() || e->desc == nullptr) return 0;
        const std::string desc = e->desc;
        constexpr const char* kKey = "error message = '";
        if (const auto at = desc.find(kKey); at != std::string::npos) {
          const auto begin = at + std::char_traits<char>::length(kKey);
          r = desc.substr(begin, desc.find('\'', begin) - begin);
        }
        return 0;
      },
      &reason);
  return reason;
}

[[noreturn]] void fail(const std::string& context, const char* what) {
  const std::string reason = system_reason();
  throw StorageError(context + ": " + what + " failed" + (reason.empty() ? "" : ": " + reason));
}

}  // namespace

Handle checked(hid_t id, const std::string& context, const char* what) {
  if (id < 0) fail(context, what);
  return Handle(id);
}

void check(herr_t status, const std::string& context, const char* what) {
  if (status < 0) fail(context, what);
}

void silence_library_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

Handle variable_string_type() {
  Handle t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

bool exists(hid_t parent, const std::string& path) {
  // H5Lexists needs every intermediate link to exist; walk the path.
  std::string prefix;
  size_t start = path[0] == '/' ? 1 : 0;
  if (start) prefix = "/";
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) {
      prefix += (prefix.empty() || prefix == "/" ? "" : "/") + part;
      if (H5Lexists(parent, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

Handle open_or_create_group(hid_t parent, const std::string& path, const std::string& context) {
  if (exists(parent, path)) return checked(H5Gopen2(parent, path.c_str(), H5P_DEFAULT), context, "open group");
  Handle lcpl = checked(H5Pcreate(H5P_LINK_CREATE), context, "H5Pcreate");
  H5Pset_create_intermediate_group(lcpl, 1);
  return checked(H5Gcreate2(parent, path.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT), context,
                 ("create group " + path).c_str());
}

namespace {
Handle replace_attr(hid_t obj, const std::string& name, hid_t type, hid_t space,
                    const std::string& context) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  return checked(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), context,
                 ("create attribute " + name).c_str());
}
}  // namespace

void write_attr(hid_t obj, const std::string& name, const std::string& value, const std::string& context) {
  Handle type = variable_string_type();
  Handle space = checked(H5Screate(H5S_SCALAR), context, "H5Screate");
  Handle attr = replace_attr(obj, name, type, space, context);
  const char* p = value.c_str();
  check(H5Awrite(attr, type, &p), context, ("write attribute " + name).c_str());
}

void write_attr(hid_t obj, const std::string& name, double value, const std::string& context) {
  Handle space = checked(H5Screate(H5S_SCALAR), context, "H5Screate");
  Handle attr = replace_attr(obj, name, H5T_NATIVE_DOUBLE, space, context);
  check(H5Awrite(attr, H5T_NATIVE_DOUBLE, &value), context, ("write attribute " + name).c_str());
}

void check_single(hid_t space, const std::string& context, const std::string& what) {
  if (space < 0 || H5Sget_simple_extent_npoints(space) != 1)
    throw StorageError(context + ": " + what + " is not a single value");
}

namespace {
// Opens attribute `name` of `obj`, checked to hold a single value.
Handle open_single_attr(hid_t obj, const std::string& name, const std::string& context) {
  Handle attr = checked(H5Aopen(obj, name.c_str(), H5P_DEFAULT), context, ("open attribute " + name).c_str());
  Handle space(H5Aget_space(attr));
  check_single(space, context, "attribute " + name);
  return attr;
}
}  // namespace

double read_double_attr(hid_t obj, const std::string& name, const std::string& context) {
  Handle attr = open_single_attr(obj, name, context);
  double value = 0;
  check(H5Aread(attr, H5T_NATIVE_DOUBLE, &value), context, ("read attribute " + name).c_str());
  return value;
}

void write_attr(hid_t obj, const std::string& name, int64_t value, const std::string& context) {
  Handle space = checked(H5Screate(H5S_SCALAR), context, "H5Screate");
  Handle attr = replace_attr(obj, name, H5T_NATIVE_INT64, space, context);
  check(H5Awrite(attr, H5T_NATIVE_INT64, &value), context, ("write attribute " + name).c_str());
}

void write_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                const std::string& context) {
  Handle type = variable_string_type();
  hsize_t n = values.size();
  Handle space = checked(H5Screate_simple(1, &n, nullptr), context, "H5Screate");
  Handle attr = replace_attr(obj, name, type, space, context);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (!values.empty()) check(H5Awrite(attr, type, ptrs.data()), context, ("write attribute " + name).c_str());
}

std::string read_string_attr(hid_t obj, const std::string& name, const std::string& context) {
  Handle attr = open_single_attr(obj, name, context);
  Handle type = variable_string_type();
  char* p = nullptr;
  check(H5Aread(attr, type, &p), context, ("read attribute " + name).c_str());
  std::string out = p ? p : "";
  H5free_memory(p);
  return out;
}

namespace {
void write_simple(hid_t parent, const std::string& name, hid_t type, const void* data,
                  const std::vector<hsize_t>& shape, bool compress, const std::string& context) {
  Handle space = checked(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
                         context, "H5Screate");
  Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), context, "H5Pcreate");
  hsize_t total = 1;
  for (auto d : shape) total *= d;
  if (compress && total > 0) {
    std::vector<hsize_t> chunk = shape;
    // Chunk along the first axis so that a chunk is about 64 KiB or less.
    hsize_t row = total / std::max<hsize_t>(1, shape[0]);
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(shape[0], 65536 / std::max<hsize_t>(1, row)));
    H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(dcpl, 4);
  }
  Handle ds = checked(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                      context, ("create dataset " + name).c_str());
  if (total > 0) check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), context,
                       ("write dataset " + name).c_str());
}
}  // namespace

void write_dataset(hid_t parent, const std::string& name, const std::vector<double>& values,
                   const std::string& context) {
  write_simple(parent, name, H5T_NATIVE_DOUBLE, values.data(), {values.size()}, false, context);
}

void write_dataset(hid_t parent, const std::string& name, const std::vector<uint8_t>& values,
                   const std::string& context) {
  write_simple(parent, name, H5T_NATIVE_UINT8, values.data(), {values.size()}, true, context);
}

void write_dataset(hid_t parent, const std::string& name, const std::vector<float>& values,
                   const std::vector<hsize_t>& shape, const std::string& context) {
  write_simple(parent, name, H5T_NATIVE_FLOAT, values.data(), shape, true, context);
}

void write_string_dataset(hid_t parent, const std::string& name, const std::string& text,
                          const std::string& context) {
  Handle type = variable_string_type();
  Handle space = checked(H5Screate(H5S_SCALAR), context, "H5Screate");
  Handle ds = checked(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      context, ("create dataset " + name).c_str());
  const char* p = text.c_str();
  check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p), context, ("write dataset " + name).c_str());
}

std::string read_string_dataset(hid_t parent, const std::string& name, const std::string& context) {
  Handle ds = checked(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), context, ("open dataset " + name).c_str());
  Handle space(H5Dget_space(ds));
  check_single(space, context, "dataset " + name);
  Handle type = variable_string_type();
  char* p = nullptr;
  check(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p), context, ("read dataset " + name).c_str());
  std::string out = p ? p : "";
  H5free_memory(p);
  return out;
}

}  // namespace pbe::h5

namespace pbe::h5 {
std::string library_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}
}  // namespace pbe::h5
