#include "storage/matrix_table.h"

#include <fmt/format.h>

#include <cstring>
#include <type_traits>

#include "storage/storage_error.h"

namespace pbe::h5 {
namespace {

// How a column's member type is stored: its memory representation, HDF5 type and schema name.
// A string (and a Status, stored by name) is a char* to a vlen UTF-8 string.
template <class T>
struct Stored;
template <>
struct Stored<std::string> {
  using Memory = const char*;
  static Handle type() { return variable_string_type(); }
  static constexpr const char* name = "string";
};
template <>
struct Stored<Status> : Stored<std::string> {};
template <>
struct Stored<int32_t> {
  using Memory = int32_t;
  static Handle type() { return Handle(H5Tcopy(H5T_NATIVE_INT32)); }
  static constexpr const char* name = "int32";
};
template <>
struct Stored<int64_t> {
  using Memory = int64_t;
  static Handle type() { return Handle(H5Tcopy(H5T_NATIVE_INT64)); }
  static constexpr const char* name = "int64";
};
template <>
struct Stored<double> {
  using Memory = double;
  static Handle type() { return Handle(H5Tcopy(H5T_NATIVE_DOUBLE)); }
  static constexpr const char* name = "float64";
};

const MatrixRow kDefaultRow;

template <class T>
constexpr bool is_string_like = std::is_same_v<T, std::string> || std::is_same_v<T, Status>;

// Byte offset of each column in one packed row, and the row's size, naturally aligned.
struct Layout {
  std::vector<size_t> offsets;
  size_t size = 0;
};

const Layout& layout() {
  static const Layout l = [] {
    Layout out;
    size_t align_max = 1;
    MatrixRow::columns(kDefaultRow, [&](const char*, const auto& member, ColumnKind, const char*) {
      using Memory = typename Stored<std::decay_t<decltype(member)>>::Memory;
      out.size = (out.size + alignof(Memory) - 1) / alignof(Memory) * alignof(Memory);
      out.offsets.push_back(out.size);
      out.size += sizeof(Memory);
      align_max = std::max(align_max, alignof(Memory));
    });
    out.size = (out.size + align_max - 1) / align_max * align_max;
    return out;
  }();
  return l;
}

}  // namespace

Handle matrix_row_type(hid_t file_type) {
  const Layout& l = layout();
  Handle t(H5Tcreate(H5T_COMPOUND, l.size));
  size_t i = 0;
  MatrixRow::columns(kDefaultRow, [&](const char* name, const auto& member, ColumnKind, const char*) {
    using T = std::decay_t<decltype(member)>;
    const size_t offset = l.offsets[i++];
    if (file_type >= 0 && H5Tget_member_index(file_type, name) < 0) return;
    H5Tinsert(t, name, offset, Stored<T>::type());
  });
  return t;
}

namespace {

// `rows` packed; with `strings` false, every string is a null pointer (default_rows).
std::vector<unsigned char> pack(const std::vector<MatrixRow>& rows, bool strings) {
  const Layout& l = layout();
  std::vector<unsigned char> out(rows.size() * l.size);
  for (size_t r = 0; r < rows.size(); ++r) {
    size_t i = 0;
    MatrixRow::columns(rows[r], [&](const char*, const auto& member, ColumnKind, const char*) {
      using T = std::decay_t<decltype(member)>;
      unsigned char* at = out.data() + r * l.size + l.offsets[i++];
      if constexpr (is_string_like<T>) {
        if (!strings) return;  // zero bytes: a null pointer
      }
      if constexpr (std::is_same_v<T, Status>) {
        static const std::string names[] = {to_string(Status::kDone), to_string(Status::kFailed)};
        const char* p = names[static_cast<size_t>(member)].c_str();
        std::memcpy(at, &p, sizeof p);
      } else if constexpr (std::is_same_v<T, std::string>) {
        const char* p = member.c_str();
        std::memcpy(at, &p, sizeof p);
      } else {
        std::memcpy(at, &member, sizeof member);
      }
    });
  }
  return out;
}

}  // namespace

std::vector<unsigned char> pack_rows(const std::vector<MatrixRow>& rows) { return pack(rows, true); }

std::vector<unsigned char> default_rows(size_t n) { return pack(std::vector<MatrixRow>(n), false); }

std::vector<MatrixRow> unpack_rows(const std::vector<unsigned char>& packed, size_t n, const std::string& context) {
  const Layout& l = layout();
  std::vector<MatrixRow> rows(n);
  for (size_t r = 0; r < n; ++r) {
    size_t i = 0;
    MatrixRow::columns(rows[r], [&](const char* name, auto& member, ColumnKind, const char*) {
      using T = std::decay_t<decltype(member)>;
      const unsigned char* at = packed.data() + r * l.size + l.offsets[i++];
      if constexpr (is_string_like<T>) {
        const char* p = nullptr;
        std::memcpy(&p, at, sizeof p);
        if (!p) return;  // a column the file lacks: the default
        const std::string text = p;
        if constexpr (std::is_same_v<T, Status>) {
          if (!parse_status(text, member))
            throw StorageError(fmt::format("{}: /matrix row {}: {} \"{}\" is neither \"done\" nor \"failed\"", context,
                                           r, name, text));
        } else {
          member = text;
        }
      } else {
        std::memcpy(&member, at, sizeof member);
      }
    });
  }
  return rows;
}

std::string schema_json() {
  const auto quoted = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  std::string columns;
  MatrixRow::columns(kDefaultRow, [&](const char* name, const auto& member, ColumnKind kind, const char* doc) {
    using T = std::decay_t<decltype(member)>;
    columns += fmt::format("{}{{\"name\": {}, \"type\": \"{}\", \"kind\": \"{}\", \"doc\": {}}}",
                           columns.empty() ? "" : ", ", quoted(name), Stored<T>::name, to_string(kind), quoted(doc));
  });
  return fmt::format("{{\"version\": {}, \"matrix\": [{}]}}", kResultsSchemaVersion, columns);
}

}  // namespace pbe::h5
