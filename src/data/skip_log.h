// SkipLog: the files a run skipped, each reported once with its path and reason, and the
// damaged files it used anyway (e.g. a JPEG with corrupt data that still decodes), each
// reported once with its path and what was wrong.
//
// Why a shared log: the same bad file is met again every epoch and by several threads; the user
// wants one line per file on stderr and, at the end, the count and the list.
#pragma once

#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace alexnet::data {

struct SkippedFile {
  std::string path;
  std::string reason;
};

class SkipLog {
 public:
  explicit SkipLog(bool print = true) : print_(print) {}

  // Records a skipped file; prints "alexnet: skipping <path>: <reason>" to stderr the first
  // time this path is seen. Returns true if the path was new. Thread-safe.
  bool Add(const std::string& path, const std::string& reason);
  // Records a damaged file that was used anyway; prints "alexnet: <path>: <what>" (e.g.
  // "damaged JPEG (...); used anyway") the first time this path is warned about. Returns true
  // if the path was new. Not counted as skipped. Thread-safe.
  bool Warn(const std::string& path, const std::string& what);

  std::size_t count() const;              // distinct files skipped so far
  std::vector<SkippedFile> files() const;  // in the order they were first met
  std::size_t warning_count() const;         // distinct damaged files used anyway
  std::vector<SkippedFile> warnings() const;  // those files and what was wrong, in order
  void SetPrint(bool print);              // tests silence it

 private:
  mutable std::mutex mutex_;
  bool print_;
  std::set<std::string> seen_;
  std::vector<SkippedFile> files_;
  std::set<std::string> warned_;
  std::vector<SkippedFile> warnings_;
};

}  // namespace alexnet::data
