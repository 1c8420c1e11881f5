#pragma once
// The file-system calls behind every file pbe-dist replaces (util/atomic_file.h: results commits,
// checkpoints, merged results, purified models): one replaceable object, like leveldb's Env, so
// that a test can make a chosen call fail as a full disk or a failing device would, without a
// small file system to fill. Only these calls go through it; HDF5's and LibTorch's own writes into
// a temporary do not (the tests that fill a real tmpfs cover those).
#include <cstddef>
#include <string>

namespace pbe {

class FileEnv {
 public:
  virtual ~FileEnv() = default;
  // Each throws std::runtime_error "<path>: <what failed>: <the system's reason>".
  // Creates or truncates `path` and writes `size` bytes to it.
  virtual void write_file(const std::string& path, const char* data, size_t size);
  // Copies `from` to `to`, replacing `to`.
  virtual void copy_file(const std::string& from, const std::string& to);
  // fsyncs a file, or a directory (its entries).
  virtual void sync(const std::string& path);
  // Renames `from` over `to` (atomic within a file system).
  virtual void rename(const std::string& from, const std::string& to);
};

// The process's env: the real file system unless a test installed another.
FileEnv& file_env();

// Installs `env` (nullptr: the real file system) and returns the one it replaced (nullptr: the
// real one). For tests, between the runs of the code they check; not thread-safe.
FileEnv* set_file_env(FileEnv* env);

}  // namespace pbe
