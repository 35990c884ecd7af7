// The .safetensors format (huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of JSON {name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
// "__metadata__": {string: string}}, then the raw little-endian data, offsets counted from the
// end of the header. Only F32 is accepted (another dtype is named in the error).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "torch/state_dict.h"
#include "util/status.h"

namespace alexnet::torch {

struct SafetensorsEntry {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // from the start of the file (the header's offsets + 8 + N)
};

// The header, checked against a file of `file_size` bytes: dtype F32, non-negative shapes,
// end - begin == 4 x the element count, inside the file, no two tensors overlapping. `prefix`
// holds at least the file's first 8 + N bytes (ran_out, when not null, is set when it does not).
// The entries are in data order (the file's order).
Result<std::vector<SafetensorsEntry>> ParseSafetensorsHeader(std::string_view prefix, uint64_t file_size,
                                                             const std::string& origin, bool* ran_out = nullptr);

// A whole .safetensors file held in memory (the fuzz target's entry point; ReadStateDict reads a
// file tensor by tensor instead).
Result<std::vector<NamedTensor>> ParseSafetensors(std::string_view bytes, const std::string& origin);

}  // namespace alexnet::torch
