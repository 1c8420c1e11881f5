// util/atomic_file.h: a file is replaced whole or not at all, and no temporary is left behind.
#include "util/atomic_file.h"
#include "util/file_env.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/failing_file_env.h"
#include "tests/temp_dir_test.h"

namespace pbe {
namespace {
namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class AtomicFileTest : public testing::TempDirTest {
 protected:
  void write_text(const fs::path& path, const std::string& text) {
    write_atomically(path.string(), [&](const std::string& tmp) { std::ofstream(tmp) << text; });
  }
  size_t entries() const { return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {})); }
};

TEST_F(AtomicFileTest, WritesANewFileAndReplacesAnOldOne) {
  const fs::path path = dir_ / "sub" / "out.txt";  // its folder is created
  write_text(path, "first");
  EXPECT_EQ(read(path), "first");
  write_text(path, "second");
  EXPECT_EQ(read(path), "second");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "sub"), {}), 1) << "a temporary was left";
}

TEST_F(AtomicFileTest, AFailedWriteLeavesTheOldFileAndNoTemporary) {
  const fs::path path = dir_ / "out.txt";
  write_text(path, "old");
  EXPECT_THROW(write_atomically(path.string(),
                                [](const std::string& tmp) {
                                  std::ofstream(tmp) << "half";
                                  throw std::runtime_error("disk full");
                                }),
               std::runtime_error);
  EXPECT_EQ(read(path), "old");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, AFailedRenameNamesTheFileAndLeavesNoTemporary) {
  const fs::path path = dir_ / "taken";
  fs::create_directories(path / "inside");  // a non-empty folder cannot be renamed over
  try {
    write_text(path, "x");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string() + ": cannot move the new file into place"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(fs::is_directory(path / "inside"));
  EXPECT_EQ(entries(), 1u);
}

// The file system failing under a replacement (util/file_env.h): an fsync of the new file or the
// rename fails; the error names the file and the call, the old file stays, no temporary is left.
TEST_F(AtomicFileTest, AFailedFsyncOrRenameLeavesTheOldFileAndNoTemporary) {
  using Call = testing::FailingFileEnv::Call;
  const fs::path path = dir_ / "out.txt";
  write_text(path, "old");
  for (const auto& [call, what] : {std::pair{Call::kSync, ": fsync failed: Input/output error"},
                                   std::pair{Call::kRename, ": cannot move the new file into place: Input/output error"}}) {
    testing::FailingFileEnv env(call, path.string() + ".tmp-");
    try {
      write_text(path, "new");
      FAIL() << "no error";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind(path.string(), 0), 0u) << e.what();
    }
    EXPECT_EQ(env.failures(), 1);
    EXPECT_EQ(read(path), "old");
    EXPECT_EQ(entries(), 1u);
  }
  write_text(path, "new");  // the real file system again
  EXPECT_EQ(read(path), "new");
}

// The env's own calls report the system's reason with the path.
TEST_F(AtomicFileTest, TheRealEnvNamesThePathAndTheReason) {
  try {
    file_env().copy_file((dir_ / "absent").string(), (dir_ / "copy").string());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind((dir_ / "copy").string() + ": cannot copy " + (dir_ / "absent").string(), 0), 0u)
        << e.what();
  }
  EXPECT_THROW(file_env().write_file((dir_ / "no" / "such" / "dir").string(), "x", 1), std::runtime_error);
  file_env().write_file((dir_ / "bytes").string(), "abc", 3);
  EXPECT_EQ(read(dir_ / "bytes"), "abc");
}

TEST_F(AtomicFileTest, RemovesTheTemporariesKilledProcessesLeftOfThatFileOnly) {
  for (const char* name : {"out.h5", "out.h5.commit-a-1", "out.h5.commit-b-2", "out.h5.tmp-a-1", "other.h5.commit-a-1"})
    std::ofstream(dir_ / name) << "x";
  remove_temporaries((dir_ / "out.h5").string(), "commit");
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(dir_)) left.insert(e.path().filename().string());
  EXPECT_EQ(left, (std::set<std::string>{"out.h5", "out.h5.tmp-a-1", "other.h5.commit-a-1"}));
}

TEST(AtomicFile, TemporariesAreNamedPerProcessNextToTheFile) {
  const std::string tmp = temporary_path_for("/a/b/results.h5", "commit");
  EXPECT_EQ(tmp.rfind("/a/b/results.h5.commit-", 0), 0u) << tmp;
  EXPECT_NE(tmp.find("-" + std::to_string(::getpid())), std::string::npos) << tmp;
  EXPECT_EQ(directory_of("results.h5"), ".");
  EXPECT_EQ(directory_of("/a/b/results.h5"), "/a/b");
}

}  // namespace
}  // namespace pbe
