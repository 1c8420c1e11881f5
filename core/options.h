#pragma once
// How an options struct declares its keys, once. Each struct has a member
//   void visit(OptionVisitor& v) { v("epochs", epochs, "fine-tuning epochs"); ... }
// that names every key with its member and a one-line doc, in the order they are read and
// recorded. Whoever needs the keys is a visitor: the spec reader and the record of effective
// options in the results file (launcher/yaml_options.h), and the option tables of
// `pbe_dist list` (docs/options.md). core/ never sees YAML.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace pbe {

struct DefenseAugmentation;

class OptionVisitor {
 public:
  virtual ~OptionVisitor() = default;
  virtual void operator()(const char* key, int& value, const char* doc) = 0;
  virtual void operator()(const char* key, int64_t& value, const char* doc) = 0;
  virtual void operator()(const char* key, uint64_t& value, const char* doc) = 0;
  virtual void operator()(const char* key, double& value, const char* doc) = 0;
  virtual void operator()(const char* key, bool& value, const char* doc) = 0;
  virtual void operator()(const char* key, std::string& value, const char* doc) = 0;
  virtual void operator()(const char* key, std::vector<int>& value, const char* doc) = 0;
  virtual void operator()(const char* key, std::vector<double>& value, const char* doc) = 0;
  // AFT's and PBE's augmentation: a name (auto, release, dataset) or a mapping of Augmentation's keys.
  virtual void operator()(const char* key, DefenseAugmentation& value, const char* doc) = 0;
  // A key whose value is one of `names`; `index` is the chosen one's position in it.
  virtual void choice(const char* key, size_t& index, const std::vector<std::string>& names, const char* doc) = 0;
  // A nested mapping `key: {...}` whose keys `body` visits (e.g. a PGD block).
  virtual void block(const char* key, const std::function<void(OptionVisitor&)>& body, const char* doc) = 0;

  // An enum key, spelled as in `names`.
  template <class E>
  void choice(const char* key, E& value, const std::vector<std::pair<const char*, E>>& names, const char* doc) {
    std::vector<std::string> spelled;
    size_t index = names.size();
    for (const auto& [name, e] : names) {
      if (e == value) index = spelled.size();
      spelled.emplace_back(name);
    }
    if (index == names.size()) throw std::logic_error(std::string(key) + ": the default is not among its names");
    choice(key, index, spelled, doc);
    value = (names.begin() + index)->second;
  }
};

}  // namespace pbe
