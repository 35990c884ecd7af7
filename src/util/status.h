// Status and Result<T>: how every function in src/ reports failure (the project's one error
// convention). Only src/cli/main.cpp turns a failed Status into a message and an exit code.
//
// It lives in the utility library (src/util), the bottom of the stack, which must stay free of
// TensorFlow (and of the wheel's copy of absl); the model library converts TensorFlow's
// absl::Status at its boundary (model::FromTf).
//
// Why not exceptions: one bad file in a million-image dataset must not take a training run
// down, so failures are values carrying the path and the reason, and callers decide whether
// to skip (the loader) or stop (opening a dataset).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace alexnet {

// What kind of failure a Status is. Code decides behaviour (the experiments record a
// kNonFiniteLoss run as diverged); the message is for people and is never matched.
enum class StatusCode {
  kOk,
  kBadInput,       // the input is not usable: a file's content, a flag value, a dataset, a config
  kNotFound,       // a file, folder or checkpoint that is not there
  kIo,             // reading, writing, creating or renaming failed (disk full, permissions, ...)
  kNonFiniteLoss,  // training's loss became NaN or infinite
  kInterrupted,    // a signal (or a cancellation) stopped the work
  kUnavailable,    // a peer process or worker failed or did not answer in time (distributed training)
  kInternal,       // a bug: should not happen
};

// "ok", "bad input", "not found", "i/o error", "non-finite loss", "interrupted", "unavailable",
// "internal error".
inline const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kBadInput: return "bad input";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kIo: return "i/o error";
    case StatusCode::kNonFiniteLoss: return "non-finite loss";
    case StatusCode::kInterrupted: return "interrupted";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown";
}

// The code for an errno of a failed file operation: kNotFound when the file or a folder on its
// path is missing, kIo otherwise.
inline StatusCode ErrnoCode(int err) {
  return err == ENOENT || err == ENOTDIR ? StatusCode::kNotFound : StatusCode::kIo;
}

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  static Status Ok() { return Status(); }
  // path: the file (or "file#index", or "") the failure is about; reason: what went wrong.
  // Each kind has its constructor; Error(code, ...) is for a code computed at run time. A
  // failure made with kOk is a bug and becomes kInternal.
  static Status BadInput(std::string path, std::string reason) {
    return Error(StatusCode::kBadInput, std::move(path), std::move(reason));
  }
  static Status NotFound(std::string path, std::string reason) {
    return Error(StatusCode::kNotFound, std::move(path), std::move(reason));
  }
  static Status Io(std::string path, std::string reason) {
    return Error(StatusCode::kIo, std::move(path), std::move(reason));
  }
  static Status NonFiniteLoss(std::string reason) { return Error(StatusCode::kNonFiniteLoss, "", std::move(reason)); }
  static Status Interrupted(std::string reason) { return Error(StatusCode::kInterrupted, "", std::move(reason)); }
  static Status Unavailable(std::string path, std::string reason) {
    return Error(StatusCode::kUnavailable, std::move(path), std::move(reason));
  }
  static Status Internal(std::string reason) { return Error(StatusCode::kInternal, "", std::move(reason)); }
  static Status Error(StatusCode code, std::string path, std::string reason) {
    Status s;
    s.code_ = code == StatusCode::kOk ? StatusCode::kInternal : code;
    s.path_ = std::move(path);
    s.reason_ = std::move(reason);
    return s;
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }
  // "path: reason", or just the reason when there is no path; "ok" when ok. The code is not
  // printed.
  std::string message() const {
    if (ok()) return "ok";
    return path_.empty() ? reason_ : path_ + ": " + reason_;
  }
  // The same failure (same code and path) with what was being done in front of the reason
  // ("cannot resume: ..."); an ok Status stays ok.
  Status With(const std::string& context) const {
    return ok() ? Status() : Error(code_, path_, context + ": " + reason_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string path_;
  std::string reason_;
};

// A value or the Status saying why there is none. Check ok() before value().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status::Internal("internal error: Result made from an ok Status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return checked(); }
  const T& value() const& { return const_cast<Result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->checked(); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return const_cast<Result*>(this)->checked(); }

 private:
  // Reading the value of a failed Result is a programming error, not bad input.
  T& checked() {
    if (!value_) {
      std::fprintf(stderr, "alexnet: value() of a failed Result: %s\n",
                   status_.message().c_str());
      std::abort();
    }
    return *value_;
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace alexnet

// Returns the Status from the enclosing function when `expr` (a Status) failed.
#define ALEXNET_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::alexnet::Status alexnet_status_ = (expr);        \
    if (!alexnet_status_.ok()) return alexnet_status_; \
  } while (0)

// Declares `lhs` from a Result<T> expression, or returns its Status from the enclosing function.
#define ALEXNET_ASSIGN_OR_RETURN(lhs, expr) \
  ALEXNET_ASSIGN_OR_RETURN_IMPL(ALEXNET_CONCAT(alexnet_result_, __LINE__), lhs, expr)
#define ALEXNET_CONCAT_INNER(a, b) a##b
#define ALEXNET_CONCAT(a, b) ALEXNET_CONCAT_INNER(a, b)
#define ALEXNET_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
