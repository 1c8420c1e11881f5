#pragma once
// A FileEnv (util/file_env.h) that fails one kind of call, as a full disk (ENOSPC on a write or a
// copy) or a failing device (EIO on an fsync or a rename) would, for as long as it is installed.
// Every other call goes to the real file system.
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "util/file_env.h"

namespace pbe::testing {

class FailingFileEnv : public FileEnv {
 public:
  enum class Call { kWrite, kCopy, kSync, kRename };
  // Fails the calls of `call` on paths that contain `path_part` ("" = every path; a rename's
  // source or destination); the first `skip` of them still succeed.
  explicit FailingFileEnv(Call call, std::string path_part = "", int skip = 0)
      : call_(call), part_(std::move(path_part)), skip_(skip) {
    previous_ = set_file_env(this);
  }
  ~FailingFileEnv() override { set_file_env(previous_); }
  FailingFileEnv(const FailingFileEnv&) = delete;
  FailingFileEnv& operator=(const FailingFileEnv&) = delete;

  int failures() const { return failures_; }

  void write_file(const std::string& path, const char* data, size_t size) override {
    if (fails(Call::kWrite, path)) {
      FileEnv::write_file(path, data, size / 2);  // what a full disk leaves: a torn temporary
      throw std::runtime_error(path + ": write failed: " + std::strerror(ENOSPC));
    }
    FileEnv::write_file(path, data, size);
  }
  void copy_file(const std::string& from, const std::string& to) override {
    if (fails(Call::kCopy, to)) throw std::runtime_error(to + ": cannot copy " + from + " here: " + std::strerror(ENOSPC));
    FileEnv::copy_file(from, to);
  }
  void sync(const std::string& path) override {
    if (fails(Call::kSync, path)) throw std::runtime_error(path + ": fsync failed: " + std::strerror(EIO));
    FileEnv::sync(path);
  }
  void rename(const std::string& from, const std::string& to) override {
    if (fails(Call::kRename, from + "\n" + to))
      throw std::runtime_error(to + ": cannot move the new file into place: " + std::strerror(EIO));
    FileEnv::rename(from, to);
  }

 private:
  bool fails(Call call, const std::string& path) {
    if (call != call_ || path.find(part_) == std::string::npos) return false;
    if (skip_ > 0) {
      --skip_;
      return false;
    }
    ++failures_;
    return true;
  }
  Call call_;
  std::string part_;
  int skip_;
  int failures_ = 0;
  FileEnv* previous_ = nullptr;
};

}  // namespace pbe::testing
