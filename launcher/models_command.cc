#include <fmt/format.h>

#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "core/training/checkpoint.h"
#include "core/training/model_store.h"
#include "launcher/commands.h"
#include "storage/result_store.h"
#include "util/memory.h"

namespace pbe {
namespace {

// The recipe's "name: value" lines.
std::map<std::string, std::string> recipe_fields(const std::string& recipe) {
  std::map<std::string, std::string> fields;
  std::istringstream lines(recipe);
  for (std::string line; std::getline(lines, line);)
    if (const auto colon = line.find(": "); colon != std::string::npos)
      fields[line.substr(0, colon)] = line.substr(colon + 2);
  return fields;
}

// One entry's line: its key's first 12 digits, its size and what made it.
std::string describe(const StoreEntry& e) {
  auto f = recipe_fields(e.recipe);
  return fmt::format("{}  {:>9}  {} / {} (width {}) / {} seed {}, {} epochs, {} rank(s)", e.key.substr(0, 12),
                     format_bytes(static_cast<double>(e.bytes)), f["dataset"], f["model"], f["width"], f["attack"],
                     f["seed"], f["epochs"], f["ranks"]);
}

}  // namespace

int models_list_command(const World& world, const std::string& store) {
  if (world.rank() != 0) return 0;
  const auto entries = ModelStore(store).list();
  std::cout << store << ": " << entries.size() << " model(s)\n";
  for (const auto& e : entries) std::cout << describe(e) << "\n";
  return 0;
}

int models_show_command(const World& world, const std::string& store, const std::string& key) {
  if (world.rank() != 0) return 0;
  std::vector<StoreEntry> found;
  for (auto& e : ModelStore(store).list())
    if (e.key.rfind(key, 0) == 0) found.push_back(std::move(e));
  if (found.size() != 1)
    throw ConfigError(store + ": " + (found.empty() ? "no model's key starts with '" + key + "'"
                                                    : std::to_string(found.size()) + " models' keys start with '" + key + "'"));
  const StoreEntry& e = found.front();
  const std::string path = ModelStore(store).tensors_path(e.key);
  std::string problem;
  const auto tensors = load_checkpoint(path, problem);
  if (!tensors) throw ConfigError(path + ": " + problem);
  std::cout << path << " (" << format_bytes(static_cast<double>(e.bytes)) << ", checksum ok)\n" << e.recipe;
  for (const auto& [name, t] : *tensors)
    std::cout << fmt::format("  {} {} [{}]\n", name, t.dtype().name(), fmt::join(t.sizes().vec(), ", "));
  return 0;
}

int models_gc_command(const World& world, const std::string& store, const std::vector<std::string>& results,
                      bool remove) {
  if (world.rank() != 0) return 0;
  std::set<std::string> used;  // every file is read before anything is deleted
  for (const auto& path : results)
    for (const auto& [cell, unit] : read_stored_results(path).attacks) used.insert(unit.model_key);
  const ModelStore models(store);
  int64_t count = 0, bytes = 0;
  for (const auto& e : models.list()) {
    if (used.count(e.key)) continue;
    if (remove) models.remove(e.key);
    std::cout << (remove ? "deleted " : "unused  ") << describe(e) << "\n";
    ++count;
    bytes += e.bytes;
  }
  std::cout << fmt::format("{}: {} model(s) no results file given refers to, {}{}\n", store, count,
                           format_bytes(static_cast<double>(bytes)), remove || count == 0 ? "" : " (--delete deletes them)");
  return 0;
}

}  // namespace pbe
