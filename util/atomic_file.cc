#include "util/atomic_file.h"

#include <unistd.h>

#include <filesystem>

#include "util/file_env.h"

namespace pbe {
namespace fs = std::filesystem;

std::string temporary_path_for(const std::string& path, const std::string& tag) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return path + "." + tag + "-" + host + "-" + std::to_string(::getpid());
}

void remove_temporaries(const std::string& path, const std::string& tag) {
  const std::string prefix = fs::path(path).filename().string() + "." + tag + "-";
  for (const auto& entry : fs::directory_iterator(directory_of(path)))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) fs::remove(entry.path());
}

void sync_path(const std::string& path) { file_env().sync(path); }

std::string directory_of(const std::string& path) {
  const auto dir = fs::path(path).parent_path();
  return dir.empty() ? "." : dir.string();
}

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write,
                      const std::string& tag) {
  const std::string dir = directory_of(path);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(path + ": cannot create its directory: " + ec.message());
  const std::string temporary = temporary_path_for(path, tag);
  try {
    write(temporary);
    sync_path(temporary);
    file_env().rename(temporary, path);
  } catch (...) {
    fs::remove(temporary, ec);
    throw;
  }
  sync_path(dir);
}

}  // namespace pbe
