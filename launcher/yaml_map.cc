#include "launcher/yaml_map.h"

#include <cstdint>
#include <type_traits>

#include "core/errors.h"

namespace pbe {
namespace {

template <class T>
const char* kind_name();
template <> const char* kind_name<int>() { return "an integer"; }
template <> const char* kind_name<int64_t>() { return "an integer"; }
template <> const char* kind_name<uint64_t>() { return "a non-negative integer"; }
template <> const char* kind_name<double>() { return "a number"; }
template <> const char* kind_name<bool>() { return "true or false"; }
template <> const char* kind_name<std::string>() { return "a string"; }
template <> const char* kind_name<std::vector<int>>() { return "a list of integers"; }
template <> const char* kind_name<std::vector<double>>() { return "a list of numbers"; }
template <> const char* kind_name<std::vector<std::string>>() { return "a list of strings"; }

// What a node that is no scalar is, for errors: "mapping", "list" or "null".
const char* non_scalar_kind(const YAML::Node& node) {
  return node.IsMap() ? "mapping" : node.IsSequence() ? "list" : "null";
}

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

}  // namespace

void throw_config_error(const std::string& file, const YAML::Node& at, const std::string& key,
                        const std::string& problem) {
  int line = at.IsDefined() && at.Mark().line >= 0 ? at.Mark().line + 1 : 1;
  throw ConfigError(file + ":" + std::to_string(line) + ": " + (key.empty() ? "" : key + ": ") + problem);
}

template <class T>
T convert_scalar(const YAML::Node& node, const std::string& key, const std::string& file) {
  if constexpr (is_vector<T>::value) {
    if (!node.IsSequence()) throw_config_error(file, node, key, std::string("expected ") + kind_name<T>());
    T out;
    for (size_t i = 0; i < node.size(); ++i)
      out.push_back(convert_scalar<typename T::value_type>(node[i], key + "[" + std::to_string(i) + "]", file));
    return out;
  } else {
    if (!node.IsScalar())
      throw_config_error(file, node, key,
                         std::string("expected ") + kind_name<T>() + ", got a " + non_scalar_kind(node));
    try {
      return node.as<T>();
    } catch (const YAML::Exception&) {
      throw_config_error(file, node, key,
                         std::string("expected ") + kind_name<T>() + ", got '" + node.Scalar() + "'");
    }
  }
}

YamlMap::YamlMap(YAML::Node node, std::string key_path, std::string file)
    : node_(std::move(node)), path_(std::move(key_path)), file_(std::move(file)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap())
    throw_config_error(file_, node_, path_, "expected a mapping of keys");
}

std::string YamlMap::key_path(const std::string& key) const {
  if (key.empty()) return path_;
  return path_.empty() ? key : path_ + "." + key;
}

bool YamlMap::has(const std::string& key) const { return node_.IsMap() && node_[key].IsDefined(); }

YAML::Node YamlMap::node(const std::string& key) {
  used_.insert(key);
  return node_.IsMap() ? node_[key] : YAML::Node();
}

template <class T>
T YamlMap::get(const std::string& key, const T& fallback) {
  if (!has(key)) return fallback;
  return convert_scalar<T>(node(key), key_path(key), file_);
}

template <class T>
T YamlMap::require(const std::string& key) {
  if (!has(key)) throw_config_error(file_, node_, key_path(key), "required key is missing");
  return convert_scalar<T>(node(key), key_path(key), file_);
}

YamlMap YamlMap::map(const std::string& key) { return YamlMap(node(key), key_path(key), file_); }

void YamlMap::finish() const {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar())  // YAML allows `[a, b]: 1` and `? {a: 1}`; a spec's keys are names
      throw_config_error(file_, kv.first, path_,
                         std::string("a key must be a name, got a ") + non_scalar_kind(kv.first));
    const std::string key = kv.first.Scalar();
    if (!used_.count(key)) throw_config_error(file_, kv.first, key_path(key), "unknown key");
  }
}

void YamlMap::fail(const YAML::Node& at, const std::string& key, const std::string& problem) const {
  throw_config_error(file_, at, key_path(key), problem);
}

#define PBE_INSTANTIATE(T)                                                   \
  template T YamlMap::get<T>(const std::string&, const T&);                  \
  template T YamlMap::require<T>(const std::string&);                        \
  template T convert_scalar<T>(const YAML::Node&, const std::string&, const std::string&);
PBE_INSTANTIATE(int)
PBE_INSTANTIATE(int64_t)
PBE_INSTANTIATE(uint64_t)
PBE_INSTANTIATE(double)
PBE_INSTANTIATE(bool)
PBE_INSTANTIATE(std::string)
PBE_INSTANTIATE(std::vector<int>)
PBE_INSTANTIATE(std::vector<double>)
PBE_INSTANTIATE(std::vector<std::string>)
#undef PBE_INSTANTIATE

}  // namespace pbe
