#include "core/training/model_store.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/training/checkpoint.h"
#include "util/atomic_file.h"
#include "util/file_env.h"

namespace pbe {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256: OpenSSL failed to start");
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

Sha256& Sha256::update(const void* data, size_t size) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size) != 1) throw std::runtime_error("SHA-256: OpenSSL failed");
  return *this;
}

std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &size) != 1) throw std::runtime_error("SHA-256: OpenSSL failed");
  static const char* const kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

ModelStore::ModelStore(std::string dir) : dir_(std::move(dir)) {}

std::string ModelStore::put(const std::string& recipe, const NamedTensors& tensors) const {
  const std::string k = key(recipe);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error(dir_ + ": cannot create the model store: " + ec.message());
  write_atomically(recipe_path(k),
                   [&](const std::string& temporary) { file_env().write_file(temporary, recipe.data(), recipe.size()); });
  save_checkpoint(tensors_path(k), tensors);
  return k;
}

void ModelStore::remove(const std::string& key) const {
  for (const std::string& path : {tensors_path(key), recipe_path(key)}) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (ec) throw std::runtime_error(path + ": cannot remove: " + ec.message());
  }
}

std::vector<StoreEntry> ModelStore::list() const {
  std::vector<StoreEntry> entries;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir_, ec)) {
    const auto name = f.path().filename().string();
    if (f.path().extension() != ".pt" || name.size() != 64 + 3) continue;
    StoreEntry e;
    e.key = name.substr(0, 64);
    e.bytes = static_cast<int64_t>(f.file_size(ec));
    std::ifstream in(recipe_path(e.key));
    std::stringstream text;
    text << in.rdbuf();
    e.recipe = text.str();
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return entries;
}

}  // namespace pbe
