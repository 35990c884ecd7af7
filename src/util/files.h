// Small file helpers for the run folder: atomic writes and readable errors. Failures are
// Status::Io(path, reason) (disk full, permission denied, ...), kNotFound when the file or its
// folder is missing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "util/status.h"

namespace alexnet {

// Writes `content` to `path` atomically: a temporary file in the same folder, flushed and
// fsync'ed, then renamed over `path`. A crash leaves either the old or the new file, never a
// mix.
Status WriteFileAtomic(const std::string& path, const std::string& content);

// Appends one line and flushes.
Status AppendLine(const std::string& path, const std::string& line);

// Reads a whole file.
Result<std::string> ReadFile(const std::string& path);

// An exclusive lock on a run folder: flock() on <dir>/.lock, held while the object lives. The
// kernel releases it when the process ends, however it ends, so a killed run never blocks the
// next one. The file holds the holder's PID, for the message a second writer gets.
class RunFolderLock {
 public:
  // Fails at once, naming the holder's PID, when another process holds the lock.
  static Result<std::unique_ptr<RunFolderLock>> Acquire(const std::string& dir);
  ~RunFolderLock();
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

 private:
  explicit RunFolderLock(int fd) : fd_(fd) {}
  int fd_;
};

// Creates `dir` and its parents if missing ("dir: cannot create the folder: reason").
Status MakeFolder(const std::string& dir);

// fsync of a directory, so a rename inside it survives a power cut.
Status SyncDirectory(const std::string& dir);

// The peak resident memory of this process's address space (VmHWM in /proc/self/status), KiB;
// 0 if unknown. Unlike getrusage's ru_maxrss, a spawned program's figure does not include the
// memory of its parent, which the kernel counts for the child until its exec.
int64_t PeakResidentKiB();

}  // namespace alexnet
