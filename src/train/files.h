// Small file helpers for the run folder: atomic writes and readable errors.
#pragma once

#include <string>

namespace alexnet::train {

// Writes `content` to `path` atomically: a temporary file in the same folder, flushed and
// fsync'ed, then renamed over `path`. A crash leaves either the old or the new file, never a
// mix. Returns "" on success, else "path: reason" (disk full, permission denied, ...).
std::string WriteFileAtomic(const std::string& path, const std::string& content);

// Appends one line and flushes. Returns "" or "path: reason".
std::string AppendLine(const std::string& path, const std::string& line);

// Reads a whole file. Returns "" or "path: reason".
std::string ReadFile(const std::string& path, std::string* content);

// fsync of a directory, so a rename inside it survives a power cut. Returns "" or an error.
std::string SyncDirectory(const std::string& dir);

}  // namespace alexnet::train
