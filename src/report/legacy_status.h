// Calls from the report library into train/ and model/ functions that still report failure as
// "" (success) or an error message (they are being converted to Status separately): their
// outcome as a Status, the message unchanged. Once they return Status, the call sites drop this.
#pragma once

#include <string>
#include <utility>

#include "data/status.h"

namespace alexnet::report {

inline Status FromMessage(std::string error) {
  return error.empty() ? Status::Ok() : Status::Error("", std::move(error));
}

}  // namespace alexnet::report
