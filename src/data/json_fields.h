// Reading the JSON files the program writes (config.json, state.json, color_stats.json) without
// undefined behaviour when one was edited by hand or damaged.
//
// Why: nlohmann::json converts a JSON floating-point number to an integer field with a plain
// static_cast (get<int>(), value() and the NLOHMANN_DEFINE_TYPE macros all do), which is
// undefined behaviour when the number does not fit, e.g. {"size": 1e300}. Found by fuzzing with
// UBSan (fuzz/, docs/reliability.md). An integer that does not fit is not UB, but it wraps:
// check_integers_kept finds it after the read.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace alexnet::data {

// `written` is an object as the program writes it (e.g. the JSON of a default-constructed
// struct). Wherever it holds an integer and `input` holds a floating-point number under the same
// key, returns the error '"key" must be an integer, not 1e+300' (nested keys joined with '.'
// after `prefix`; no path: callers add the file). Objects present on both sides are compared
// recursively; arrays and keys missing on either side are not checked.
Status CheckIntegerFields(const nlohmann::json& written, const nlohmann::json& input,
                            const std::string& prefix = "");

// `input` is what was read and `read_back` the JSON of the struct made from it. Wherever both
// hold an integer under the same key and the two differ, the number did not fit the field (an
// integer that does not fit wraps silently: {"batch": 4294967424} would read as 128): returns
// the error '"key" is out of range: 4294967424' (keys as above).
Status CheckIntegersKept(const nlohmann::json& input, const nlohmann::json& read_back,
                           const std::string& prefix = "");

}  // namespace alexnet::data
