#pragma once
// The one way pbe-dist replaces a file (checkpoints, results commits, merged results, purified
// models): write a temporary next to it, fsync it, rename it over the destination, fsync the
// directory. A kill or a full disk at any point leaves the old file or the new one, never a torn
// one, and the new one survives a power cut once this returns.
#include <functional>
#include <stdexcept>
#include <string>

namespace pbe {

// "<path>.<tag>-<host>-<pid>": unique per process on a shared filesystem, in the same directory
// (so the rename is atomic).
std::string temporary_path_for(const std::string& path, const std::string& tag);

// Removes every temporary temporary_path_for(path, tag) of any process left next to `path` (by a
// killed one). Only for a file no other process is writing.
void remove_temporaries(const std::string& path, const std::string& tag);

// fsyncs a file or a directory (its entries) through file_env(). std::runtime_error
// "<path>: fsync failed: <reason>".
void sync_path(const std::string& path);

// The directory `path` is in ("." for a bare name).
std::string directory_of(const std::string& path);

// `write(temporary)` fills the temporary (whatever it throws propagates, and the temporary is
// removed); then it is synced and renamed over `path`, and the directory synced (file_env()'s
// calls, util/file_env.h).
// std::runtime_error "<path>: ..." when the directory cannot be created or the rename fails.
void write_atomically(const std::string& path, const std::function<void(const std::string& temporary)>& write,
                      const std::string& tag = "tmp");

}  // namespace pbe
