#include "data/skip_log.h"

#include <cstdio>

namespace alexnet::data {

bool SkipLog::Add(const std::string& path, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!seen_.insert(path).second) return false;
  files_.push_back({path, reason});
  if (print_) std::fprintf(stderr, "alexnet: skipping %s: %s\n", path.c_str(), reason.c_str());
  return true;
}

bool SkipLog::Warn(const std::string& path, const std::string& what) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!warned_.insert(path).second) return false;
  warnings_.push_back({path, what});
  if (print_) std::fprintf(stderr, "alexnet: %s: %s\n", path.c_str(), what.c_str());
  return true;
}

std::size_t SkipLog::warning_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return warnings_.size();
}

std::vector<SkippedFile> SkipLog::warnings() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return warnings_;
}

std::size_t SkipLog::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return files_.size();
}

std::vector<SkippedFile> SkipLog::files() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return files_;
}

void SkipLog::SetPrint(bool print) {
  std::lock_guard<std::mutex> lock(mutex_);
  print_ = print;
}

}  // namespace alexnet::data
