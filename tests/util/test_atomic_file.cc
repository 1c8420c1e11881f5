// util/atomic_file.h: a file is replaced whole or not at all, and no temporary is left behind.
#include "util/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

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
