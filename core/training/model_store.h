#pragma once
// The model store: trained victims (infected and clean models with their attack's state and
// training curve) kept under a key derived from everything that made them, so that a run takes a
// model that another run, or another spec, already trained instead of training it again.
//
// A folder, shareable by several jobs on several nodes (a shared file system). Each entry is
//   <dir>/<key>.yaml  the recipe the key was made from (launcher/victim_recipe.h), written first;
//   <dir>/<key>.pt    the tensors, in the checkpoint format (core/training/checkpoint.h: magic,
//                     size, CRC-32; written to a temporary file, fsynced and renamed into place).
// The key is the SHA-256 of the recipe text, in hex. An entry is there when its .pt is. Two jobs
// that need one missing model both train it and both store it: each rename is atomic, so readers
// see a whole entry either way, and the later one stays (the same tensors: the recipe fixes them).
// A truncated or corrupt .pt is refused by its CRC when loaded; the caller trains again and put()
// replaces it.
#include <cstdint>
#include <string>
#include <vector>

#include "core/named_tensors.h"

namespace pbe {

// SHA-256 (OpenSSL), fed in parts; hex() gives 64 lowercase hex digits.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& update(const void* data, size_t size);
  Sha256& update(const std::string& text) { return update(text.data(), text.size()); }
  std::string hex();  // Once, at the end.

 private:
  void* ctx_;
};

inline std::string sha256_hex(const std::string& bytes) { return Sha256().update(bytes).hex(); }

struct StoreEntry {
  std::string key;
  std::string recipe;  // The .yaml's text ("" when it is missing).
  int64_t bytes = 0;   // The .pt's size.
};

class ModelStore {
 public:
  explicit ModelStore(std::string dir);
  const std::string& dir() const { return dir_; }
  static std::string key(const std::string& recipe) { return sha256_hex(recipe); }
  std::string tensors_path(const std::string& key) const { return dir_ + "/" + key + ".pt"; }
  std::string recipe_path(const std::string& key) const { return dir_ + "/" + key + ".yaml"; }
  // Stores `tensors` under key(recipe), replacing any entry there. Throws std::runtime_error
  // naming the file on an I/O failure.
  std::string put(const std::string& recipe, const NamedTensors& tensors) const;
  // Every entry (a .pt with a key's name), by key.
  std::vector<StoreEntry> list() const;
  // Deletes the entry's files (its .pt first: a .yaml alone is no entry). Throws
  // std::runtime_error naming the file when one cannot be removed.
  void remove(const std::string& key) const;

 private:
  std::string dir_;
};

}  // namespace pbe
