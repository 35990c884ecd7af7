#include "torch/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

namespace alexnet::torch {
namespace {

// The safetensors library refuses headers above 100 MB; so do we (before allocating).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// A JSON integer >= 0 (a float or a negative number is refused before any conversion).
bool Unsigned(const nlohmann::ordered_json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(j.get<int64_t>());
    return true;
  }
  return false;
}

}  // namespace

Result<std::vector<SafetensorsEntry>> ParseSafetensorsHeader(std::string_view prefix, uint64_t file_size,
                                                             const std::string& origin, bool* ran_out) {
  if (ran_out) *ran_out = false;
  if (file_size < 8) return Status::BadInput(origin, "truncated: a safetensors file starts with an 8-byte header length");
  if (prefix.size() < 8) {
    if (ran_out) *ran_out = true;
    return Status::BadInput(origin, "truncated: the safetensors header length is cut off");
  }
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(prefix[i])) << (8 * i);
  if (n > kMaxHeaderBytes) {
    return Status::BadInput(origin, "a safetensors header of " + std::to_string(n) + " bytes (at most 100 MB)");
  }
  if (n > file_size - 8) {
    return Status::BadInput(origin, "truncated: the safetensors header is " + std::to_string(n) + " bytes, the file has " +
                                        std::to_string(file_size - 8) + " after the length");
  }
  if (prefix.size() < 8 + n) {
    if (ran_out) *ran_out = true;
    return Status::BadInput(origin, "truncated: the safetensors header is cut off");
  }
  const uint64_t data_start = 8 + n, data_size = file_size - data_start;
  const auto header = nlohmann::ordered_json::parse(prefix.data() + 8, prefix.data() + 8 + n, nullptr,
                                                    /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return Status::BadInput(origin, "the safetensors header is not a JSON object");
  }
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) return Status::BadInput(origin, "safetensors __metadata__ is not an object");
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) return Status::BadInput(origin, "safetensors __metadata__ '" + k + "' is not a string");
      }
      continue;
    }
    const std::string who = "safetensors tensor '" + name + "'";
    if (!info.is_object()) return Status::BadInput(origin, who + " is not an object");
    const auto dtype = info.find("dtype"), shape = info.find("shape"), offsets = info.find("data_offsets");
    if (dtype == info.end() || !dtype->is_string()) return Status::BadInput(origin, who + " has no dtype string");
    if (dtype->get<std::string>() != "F32") {
      return Status::BadInput(origin, who + " is " + dtype->get<std::string>() + ": only F32 (float32) is read");
    }
    SafetensorsEntry e;
    e.name = name;
    if (shape == info.end() || !shape->is_array()) return Status::BadInput(origin, who + " has no shape array");
    uint64_t count = 1;
    for (const auto& d : *shape) {
      uint64_t v = 0;
      if (!Unsigned(d, &v) || v > (uint64_t(1) << 62)) return Status::BadInput(origin, who + ": a shape entry that is not an int >= 0");
      if (__builtin_mul_overflow(count, v, &count) || count > (uint64_t(1) << 61)) {
        return Status::BadInput(origin, who + ": its shape overflows");
      }
      e.shape.push_back(static_cast<int64_t>(v));
    }
    uint64_t b = 0, en = 0;
    if (offsets == info.end() || !offsets->is_array() || offsets->size() != 2 || !Unsigned((*offsets)[0], &b) ||
        !Unsigned((*offsets)[1], &en)) {
      return Status::BadInput(origin, who + " has no data_offsets [begin, end]");
    }
    if (b > en || en > data_size) {
      return Status::BadInput(origin, who + ": data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                                          "] outside the data's " + std::to_string(data_size) + " bytes" +
                                          (en > data_size ? " (truncated file?)" : ""));
    }
    if (en - b != count * 4) {
      return Status::BadInput(origin, who + ": data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                                          "] hold " + std::to_string(en - b) + " bytes, its shape needs " +
                                          std::to_string(count * 4));
    }
    e.begin = data_start + b;
    e.end = data_start + en;
    entries.push_back(std::move(e));
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const SafetensorsEntry& x, const SafetensorsEntry& y) { return x.begin < y.begin; });
  std::set<std::string> names;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!names.insert(entries[i].name).second) return Status::BadInput(origin, "safetensors tensor '" + entries[i].name + "' appears twice");
    if (i > 0 && entries[i].begin < entries[i - 1].end) {
      return Status::BadInput(origin, "safetensors tensors '" + entries[i - 1].name + "' and '" + entries[i].name + "' overlap");
    }
  }
  return entries;
}

Result<std::vector<NamedTensor>> ParseSafetensors(std::string_view bytes, const std::string& origin) {
  ALEXNET_ASSIGN_OR_RETURN(const auto entries, ParseSafetensorsHeader(bytes, bytes.size(), origin));
  std::vector<NamedTensor> tensors;
  for (const auto& e : entries) {
    NamedTensor t{e.name, e.shape, std::vector<float>((e.end - e.begin) / 4)};
    if (!t.values.empty()) std::memcpy(t.values.data(), bytes.data() + e.begin, e.end - e.begin);
    tensors.push_back(std::move(t));
  }
  return tensors;
}

}  // namespace alexnet::torch
