// Small file helpers for the run folder: atomic writes and readable errors. Failures are
// Status::Error(path, reason) (disk full, permission denied, ...).
#pragma once

#include <string>

#include "data/status.h"

namespace alexnet::train {

// Writes `content` to `path` atomically: a temporary file in the same folder, flushed and
// fsync'ed, then renamed over `path`. A crash leaves either the old or the new file, never a
// mix.
Status WriteFileAtomic(const std::string& path, const std::string& content);

// Appends one line and flushes.
Status AppendLine(const std::string& path, const std::string& line);

// Reads a whole file.
Result<std::string> ReadFile(const std::string& path);

// Creates `dir` and its parents if missing ("dir: cannot create the folder: reason").
Status MakeFolder(const std::string& dir);

// fsync of a directory, so a rename inside it survives a power cut.
Status SyncDirectory(const std::string& dir);

}  // namespace alexnet::train
