// Status and Result<T>: how every function that reads user input reports failure.
//
// Why not exceptions: one bad file in a million-image dataset must not take a training run
// down, so failures are values carrying the path and the reason, and callers decide whether
// to skip (the loader) or stop (opening a dataset).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace alexnet::data {

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  static Status Ok() { return Status(); }
  // path: the file (or "file#index", or "") the failure is about; reason: what went wrong.
  static Status Error(std::string path, std::string reason) {
    Status s;
    s.failed_ = true;
    s.path_ = std::move(path);
    s.reason_ = std::move(reason);
    return s;
  }

  bool ok() const { return !failed_; }
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }
  // "path: reason", or just the reason when there is no path; "ok" when ok.
  std::string message() const {
    if (!failed_) return "ok";
    return path_.empty() ? reason_ : path_ + ": " + reason_;
  }

 private:
  bool failed_ = false;
  std::string path_;
  std::string reason_;
};

// A value or the Status saying why there is none. Check ok() before value().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status::Error("", "internal error: Result made from an ok Status");
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
      std::fprintf(stderr, "alexnet::data: value() of a failed Result: %s\n",
                   status_.message().c_str());
      std::abort();
    }
    return *value_;
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace alexnet::data

// Returns the Status from the enclosing function when `expr` (a Status) failed.
#define ALEXNET_DATA_RETURN_IF_ERROR(expr)               \
  do {                                                   \
    ::alexnet::data::Status alexnet_status_ = (expr);    \
    if (!alexnet_status_.ok()) return alexnet_status_;   \
  } while (0)
