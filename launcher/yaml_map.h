#pragma once
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

namespace pbe {

// One YAML mapping of a spec, read key by key. Every error is a ConfigError naming the file, the
// 1-based line and the dotted key path; finish() rejects keys nobody asked for.
class YamlMap {
 public:
  YamlMap(YAML::Node node, std::string key_path, std::string file);

  bool has(const std::string& key) const;
  template <class T>
  T get(const std::string& key, const T& fallback);
  template <class T>
  T require(const std::string& key);
  // A nested mapping (empty if absent).
  YamlMap map(const std::string& key);
  // The raw node of a key (marked as used).
  YAML::Node node(const std::string& key);
  std::string key_path(const std::string& key) const;
  const std::string& file() const { return file_; }
  const YAML::Node& yaml() const { return node_; }

  void finish() const;
  [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& problem) const;

 private:
  YAML::Node node_;
  std::string path_, file_;
  std::set<std::string> used_;
};

// Converts a scalar node or throws ConfigError (file:line: key: expected <kind>, got '<text>').
template <class T>
T convert_scalar(const YAML::Node& node, const std::string& key, const std::string& file);

[[noreturn]] void throw_config_error(const std::string& file, const YAML::Node& at,
                                     const std::string& key, const std::string& problem);

}  // namespace pbe
