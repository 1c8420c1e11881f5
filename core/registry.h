#pragma once
// A registry of plug-ins by name (attacks, defenses): each registers itself from its own .cc at
// static initialisation (see core/attacks/registry.h, core/defenses/registry.h). The core library
// is linked whole (core/CMakeLists.txt), so no registration is dropped by the linker.
#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/options.h"

namespace pbe {

// Options of a plug-in that has none.
struct NoOptions {
  void visit(OptionVisitor&) {}
};

template <class Plugin>  // a struct with a `name`
class Registry {
 public:
  static Registry& instance() {
    static Registry registry;
    return registry;
  }
  // std::logic_error for a name registered twice. Returns true (for static registration).
  bool add(Plugin plugin) {
    const std::string name = plugin.name;
    if (!plugins_.emplace(name, std::move(plugin)).second) throw std::logic_error("'" + name + "' registered twice");
    return true;
  }
  // nullptr for a name nobody registered.
  const Plugin* find(const std::string& name) const {
    const auto it = plugins_.find(name);
    return it == plugins_.end() ? nullptr : &it->second;
  }
  // "none" (the matrix's baseline row or column) first, then by name.
  std::vector<const Plugin*> all() const {
    std::vector<const Plugin*> out;
    for (const auto& [name, plugin] : plugins_) out.push_back(&plugin);
    std::stable_partition(out.begin(), out.end(), [](const Plugin* p) { return p->name == "none"; });
    return out;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Plugin* p : all()) out.push_back(p->name);
    return out;
  }

 private:
  std::map<std::string, Plugin> plugins_;
};

}  // namespace pbe
