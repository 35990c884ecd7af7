// SkipLog: the files a run skipped, each reported once with its path and reason.
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
  bool add(const std::string& path, const std::string& reason);

  std::size_t count() const;              // distinct files skipped so far
  std::vector<SkippedFile> files() const;  // in the order they were first met
  void set_print(bool print);              // tests silence it

 private:
  mutable std::mutex mutex_;
  bool print_;
  std::set<std::string> seen_;
  std::vector<SkippedFile> files_;
};

}  // namespace alexnet::data
