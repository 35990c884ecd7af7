#include "model/tf_status.h"

namespace alexnet::model {

namespace {

StatusCode CodeOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return StatusCode::kOk;
    case absl::StatusCode::kInvalidArgument:     // a value the op refuses (a shape, a dtype)
    case absl::StatusCode::kFailedPrecondition:  // e.g. a variable read before it was restored
    case absl::StatusCode::kOutOfRange:          // e.g. a checkpoint file shorter than its index says
    case absl::StatusCode::kDataLoss:            // a damaged checkpoint ("Checksum does not match")
      return StatusCode::kBadInput;
    case absl::StatusCode::kNotFound:  // a checkpoint file or a tensor in it
      return StatusCode::kNotFound;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kResourceExhausted:  // the machine's memory or disk
      return StatusCode::kIo;
    case absl::StatusCode::kDeadlineExceeded:  // a collective's timeout: a peer did not answer
    case absl::StatusCode::kUnavailable:       // a peer's connection closed or refused
    case absl::StatusCode::kAborted:           // a collective aborted because a peer failed
      return StatusCode::kUnavailable;
    case absl::StatusCode::kCancelled:
      return StatusCode::kInterrupted;
    default:  // kInternal, kUnknown, kUnimplemented, kUnauthenticated
      return StatusCode::kInternal;
  }
}

}  // namespace

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
  if (reason.empty()) reason = absl::StatusCodeToString(status.code());
  return Status::Error(CodeOf(status.code()), path, reason);
}

}  // namespace alexnet::model
