#include "model/tf_status.h"

namespace alexnet::model {

Status FromTf(const absl::Status& status, const std::string& path) {
  if (status.ok()) return Status::Ok();
  std::string reason(status.message());
  const size_t hint = reason.find("Hint: If you want to see a list of allocated tensors");
  if (hint != std::string::npos) {
    const size_t end = reason.find('\n', hint);
    reason.erase(hint, end == std::string::npos ? std::string::npos : end + 1 - hint);
  }
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ' || reason.back() == '.')) {
    reason.pop_back();
  }
  return Status::Error(path, reason.empty() ? absl::StatusCodeToString(status.code()) : reason);
}

}  // namespace alexnet::model
