// Reader for the idx format of MNIST / Fashion-MNIST, gzip-compressed or plain (zlib reads both).
//
// Layout: 0x00 0x00, a type byte, the number of dimensions, each dimension as a big-endian
// uint32, then the values (big-endian). Everything is validated before the data is allocated,
// and a file with too few or too many bytes is refused, with the path and the reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace alexnet::data {

enum class IdxType : std::uint8_t {
  kUint8 = 0x08,
  kInt8 = 0x09,
  kInt16 = 0x0B,
  kInt32 = 0x0C,
  kFloat32 = 0x0D,
  kFloat64 = 0x0E,
};

std::size_t IdxTypeSize(IdxType type);  // bytes per value

struct IdxArray {
  IdxType type = IdxType::kUint8;
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;  // values in host byte order, row-major

  std::size_t count() const;  // product of dims
  template <typename T>
  const T* values() const {
    return reinterpret_cast<const T*>(data.data());
  }
};

struct IdxOptions {
  std::uint64_t max_bytes = 1ULL << 32;  // refuse larger declared data (corrupt header)
};

Result<IdxArray> ReadIdx(const std::string& path, const IdxOptions& options = {});

}  // namespace alexnet::data
