#include "util/file_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

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
  // read and write rather than std::filesystem::copy_file, whose sendfile reports a full tmpfs
  // as EIO: the user should read "No space left on device".
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) fail(to, "cannot copy " + from + " here", errno);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    const int error = errno;
    ::close(in);
    fail(to, "cannot copy " + from + " here", error);
  }
  std::vector<char> buffer(1 << 20);
  int error = 0;
  for (;;) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) error = errno;
      break;
    }
    for (ssize_t done = 0; done < n && error == 0;) {
      const ssize_t w = ::write(out, buffer.data() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno != EINTR) error = errno;
      if (w > 0) done += w;
    }
    if (error != 0) break;
  }
  ::close(in);
  if (::close(out) != 0 && error == 0) error = errno;
  if (error != 0) fail(to, "cannot copy " + from + " here", error);
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
