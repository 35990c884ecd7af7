#include "util/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace alexnet {

namespace {
// The Status for the errno of the call that just failed.
Status Errno(const std::string& path, const char* what) {
  const int err = errno;
  return Status::Error(ErrnoCode(err), path, std::string(what) + ": " + std::strerror(err));
}
}  // namespace

Status WriteFileAtomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno(tmp, "cannot create");
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status err = Errno(tmp, "write failed");
      ::close(fd);
      ::unlink(tmp.c_str());
      return err;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status err = Errno(tmp, "fsync failed");
    ::close(fd);
    ::unlink(tmp.c_str());
    return err;
  }
  if (::close(fd) != 0) {
    Status err = Errno(tmp, "close failed");
    ::unlink(tmp.c_str());
    return err;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status err = Errno(path, "rename failed");
    ::unlink(tmp.c_str());
    return err;
  }
  return SyncDirectory(std::filesystem::path(path).parent_path().string());
}

Status AppendLine(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  if (!out) return Errno(path, "cannot open for appending");
  out << line << '\n';
  out.flush();
  if (!out) return Errno(path, "write failed");
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Errno(path, "cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Errno(path, "read failed");
  return ss.str();
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno(dir, "cannot open folder");
  if (::fsync(fd) != 0) {
    Status err = Errno(dir, "fsync failed");
    ::close(fd);
    return err;
  }
  ::close(fd);
  return Status::Ok();
}

Status MakeFolder(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return ec ? Status::Io(dir, "cannot create the folder: " + ec.message()) : Status::Ok();
}

Result<std::unique_ptr<RunFolderLock>> RunFolderLock::Acquire(const std::string& dir) {
  const std::string path = dir + "/.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    return Status::Error(ErrnoCode(err), path, std::string("cannot open the lock file: ") + std::strerror(err));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char pid[32] = {0};
    const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) return Status::Io(path, std::string("cannot lock: ") + std::strerror(err));
    std::string holder(pid, n > 0 ? static_cast<size_t>(n) : 0);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    return Status::BadInput(dir, "the run folder is in use by another `alexnet train` (PID " +
                                  (holder.empty() ? std::string("unknown") : holder) +
                                  "); only one training run may write to a run folder at a time");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return Status::Io(path, std::string("cannot write the lock file: ") + std::strerror(err));
  }
  return std::unique_ptr<RunFolderLock>(new RunFolderLock(fd));
}

RunFolderLock::~RunFolderLock() { ::close(fd_); }  // closing releases the lock

int64_t PeakResidentKiB() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoll(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

}  // namespace alexnet
