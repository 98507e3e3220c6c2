// atomic_write and read_file: content, replacement, no leftovers, errors naming path and errno.
#include <sys/stat.h>

#include "io/io_test_util.h"
#include "koan/io/file.h"
#include "koan/io/safetensors.h"
#include "support/testing.h"

namespace koan {
namespace {

using testing::ScratchDir;

std::vector<std::string> entries(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AtomicWrite, WritesAndReplacesLeavingNoTemporaries) {
  ScratchDir dir;
  std::string path = dir.file("a.bin");
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  io::atomic_write(path, big);
  EXPECT_EQ(io::read_file(path), big);
  io::atomic_write(path, "short");
  EXPECT_EQ(io::read_file(path), "short");
  io::atomic_write(path, "");
  EXPECT_EQ(io::read_file(path), "");
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"a.bin"});
}

TEST(AtomicWrite, KeepsAnExistingFilesPermissions) {
  ScratchDir dir;
  std::string path = dir.file("p.bin");
  io::atomic_write(path, "x");
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  io::atomic_write(path, "y");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(AtomicWrite, RelativePathWithoutDirectory) {
  ScratchDir dir;
  auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  io::atomic_write("rel.txt", "hello");
  std::filesystem::current_path(old);
  EXPECT_EQ(io::read_file(dir.file("rel.txt")), "hello");
}

TEST(AtomicWrite, MissingDirectoryIsAnIOErrorNamingPathAndReason) {
  ScratchDir dir;
  std::string path = dir.file("no/such/dir/x.bin");
  try {
    io::atomic_write(path, "data");
    FAIL() << "accepted";
  } catch (const IOError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("No such file or directory"), std::string::npos) << m;
  }
}

TEST(AtomicWrite, FailedRenameLeavesTargetAndNoTemporary) {
  ScratchDir dir;
  std::string target = dir.file("d");
  std::filesystem::create_directories(target + "/inner");  // a non-empty directory cannot be replaced
  try {
    io::atomic_write(target, "data");
    FAIL() << "accepted";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("rename"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_directory(target));
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"d"});
}

TEST(AtomicWrite, DirectoryNamesAreRefused) {
  ScratchDir dir;
  EXPECT_THROW(io::atomic_write(dir.path().string() + "/", "x"), IOError);
  EXPECT_THROW(io::atomic_write("", "x"), IOError);
}

TEST(AtomicWrite, FailedSerialisationLeavesTheOldFile) {
  ScratchDir dir;
  std::string path = dir.file("w.safetensors");
  io::save_safetensors(path, {{"w", ones({2})}});
  std::string before = io::read_file(path);
  EXPECT_THROW(io::save_safetensors(path, {{"__metadata__", ones({2})}}), ValueError);
  EXPECT_EQ(io::read_file(path), before);
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"w.safetensors"});
}

TEST(ReadFile, RefusesDirectoriesAndNamesMissingFiles) {
  ScratchDir dir;
  EXPECT_THROW(io::read_file(dir.path().string()), IOError);
  try {
    io::read_file(dir.file("missing"));
    FAIL();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("missing\": No such file or directory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace koan
