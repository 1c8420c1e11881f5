#include "util/file_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace pbe {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int error) {
  throw std::runtime_error(path + ": " + what + ": " + std::strerror(error));
}

FileEnv* installed = nullptr;

}  // namespace

void FileEnv::write_file(const std::string& path, const char* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot create", errno);
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      fail(path, "write failed", error);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  if (::close(fd) != 0) fail(path, "write failed (on close)", errno);
}

void FileEnv::copy_file(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) throw std::runtime_error(to + ": cannot copy " + from + " here: " + ec.message());
}

void FileEnv::sync(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open to fsync", errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) fail(path, "fsync failed", error);
}

void FileEnv::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) fail(to, "cannot move the new file into place", errno);
}

FileEnv& file_env() {
  static FileEnv real;
  return installed ? *installed : real;
}

FileEnv* set_file_env(FileEnv* env) {
  FileEnv* previous = installed;
  installed = env;
  return previous;
}

}  // namespace pbe
