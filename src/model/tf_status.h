// The boundary between TensorFlow's absl::Status and the project's alexnet::Status: every
// function of the model library returns alexnet::Status, converting TensorFlow's on the way out.
#pragma once

#include <string>

#include <tensorflow/core/platform/status.h>

#include "util/status.h"

namespace alexnet::model {

// The same failure as an alexnet::Status about `path` ("" when it concerns no file), with the
// nearest StatusCode: InvalidArgument, FailedPrecondition, OutOfRange and DataLoss are kBadInput;
// NotFound kNotFound; PermissionDenied, AlreadyExists and ResourceExhausted kIo; DeadlineExceeded,
// Unavailable and Aborted (what a failed or silent peer gives) kUnavailable; Cancelled
// kInterrupted; the rest kInternal. TensorFlow's advice on GPU allocations ("Hint: If you want to
// see a list of allocated tensors when OOM happens...") is dropped: it is printed for any failed
// Run, a full disk included, and never applies to this CPU-only program.
Status FromTf(const absl::Status& status, const std::string& path = "");

}  // namespace alexnet::model

// Returns an alexnet::Status from the enclosing function when a TensorFlow call failed.
#define ALEXNET_RETURN_IF_TF_ERROR(expr) ALEXNET_RETURN_IF_ERROR(::alexnet::model::FromTf(expr))
