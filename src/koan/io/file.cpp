#include "koan/io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "koan/core/error.h"

namespace koan::io {
namespace {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw IOError(str(what, " \"", path, "\": ", errno_text(err)));
}

// Closes the descriptor and removes the temporary file unless the rename succeeded.
struct TempFile {
  int fd = -1;
  std::string path;
  bool keep = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!keep && !path.empty()) ::unlink(path.c_str());
  }
};

void write_all(int fd, std::string_view bytes, const std::string& path) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("atomic_write: cannot write", path, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

void atomic_write(const std::string& path, std::string_view bytes) {
  KOAN_CHECK(!path.empty(), IOError, "atomic_write: empty path");
  std::filesystem::path target(path);
  std::string dir = target.parent_path().string();
  if (dir.empty()) dir = ".";
  std::string base = target.filename().string();
  KOAN_CHECK(!base.empty() && base != "." && base != "..", IOError, "atomic_write: \"", path,
             "\" names a directory, not a file");

  // A unique name per process and call; O_EXCL makes a clash an error we retry, never a
  // silent overwrite of someone else's temporary.  open() applies the umask, so the file gets
  // the permissions an ordinary create would.
  static std::atomic<uint64_t> counter{0};
  TempFile tmp;
  for (int attempt = 0; tmp.fd < 0; ++attempt) {
    uint64_t tag = counter.fetch_add(1) ^
                   static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    std::string name = str(dir, "/.", base, ".tmp.", ::getpid(), ".", tag);
    int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      tmp.fd = fd;
      tmp.path = name;
    } else if (errno != EEXIST || attempt > 100) {
      fail(str("atomic_write: cannot create a temporary file in \"", dir, "\" for"), path, errno);
    }
  }
  // Keep an existing target's permissions.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::fchmod(tmp.fd, st.st_mode & 07777);

  write_all(tmp.fd, bytes, path);
  if (::fsync(tmp.fd) != 0) fail("atomic_write: cannot fsync the temporary file for", path, errno);
  int fd = tmp.fd;
  tmp.fd = -1;
  if (::close(fd) != 0) fail("atomic_write: cannot close the temporary file for", path, errno);
  if (::rename(tmp.path.c_str(), path.c_str()) != 0) fail("atomic_write: cannot rename onto", path, errno);
  tmp.keep = true;

  // The rename is only durable once the directory entry is on disk.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail("atomic_write: cannot open the directory of", path, errno);
  int rc = ::fsync(dfd);
  int err = errno;
  ::close(dfd);
  // Some file systems cannot fsync a directory (EINVAL); the data itself is already synced.
  if (rc != 0 && err != EINVAL) fail("atomic_write: cannot fsync the directory of", path, err);
}

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("read_file: cannot open", path, errno);
  TempFile guard;  // closes fd on every exit; path stays empty so nothing is unlinked
  guard.fd = fd;
  struct stat st;
  if (::fstat(fd, &st) != 0) fail("read_file: cannot stat", path, errno);
  KOAN_CHECK(!S_ISDIR(st.st_mode), IOError, "read_file: cannot read \"", path, "\": it is a directory");
  std::string out;
  if (S_ISREG(st.st_mode)) out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("read_file: cannot read", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace koan::io
