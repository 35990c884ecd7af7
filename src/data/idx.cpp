#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace alexnet::data {
namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

std::string gz_error(gzFile f) {
  int code = 0;
  const char* msg = gzerror(f, &code);
  if (code == Z_ERRNO) return std::strerror(errno);
  return msg && *msg ? msg : "unknown error";
}

// Reads exactly n bytes; returns the count read (less at end of file), -1 on a zlib error.
long long read_exact(gzFile f, std::uint8_t* out, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
    const int got = gzread(f, out + done, chunk);
    if (got < 0) return -1;
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return static_cast<long long>(done);
}

}  // namespace

std::size_t idx_type_size(IdxType type) {
  switch (type) {
    case IdxType::kUint8:
    case IdxType::kInt8: return 1;
    case IdxType::kInt16: return 2;
    case IdxType::kInt32:
    case IdxType::kFloat32: return 4;
    case IdxType::kFloat64: return 8;
  }
  return 0;
}

std::size_t IdxArray::count() const {
  std::size_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

Result<IdxArray> read_idx(const std::string& path, const IdxOptions& options) {
  errno = 0;
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) {
    return Status::Error(path, std::string("cannot open: ") +
                                   (errno ? std::strerror(errno) : "out of memory"));
  }
  gzbuffer(f.get(), 1 << 16);

  std::uint8_t head[4];
  const long long got = read_exact(f.get(), head, 4);
  if (got < 0) return Status::Error(path, "read error: " + gz_error(f.get()));
  if (got < 4) return Status::Error(path, "not an idx file: shorter than its 4-byte magic");
  if (head[0] != 0 || head[1] != 0) {
    return Status::Error(path, "not an idx file: magic must start with two zero bytes");
  }
  IdxArray a;
  a.type = static_cast<IdxType>(head[2]);
  const std::size_t elem = idx_type_size(a.type);
  if (elem == 0 || (head[2] != 0x08 && head[2] != 0x09 && head[2] != 0x0B && head[2] != 0x0C &&
                    head[2] != 0x0D && head[2] != 0x0E)) {
    return Status::Error(path, "not an idx file: unknown value type 0x" +
                                   std::string(1, "0123456789abcdef"[head[2] >> 4]) +
                                   std::string(1, "0123456789abcdef"[head[2] & 15]));
  }
  const int ndims = head[3];
  if (ndims < 1) return Status::Error(path, "idx file declares 0 dimensions");

  std::vector<std::uint8_t> dim_bytes(static_cast<std::size_t>(ndims) * 4);
  const long long got_dims = read_exact(f.get(), dim_bytes.data(), dim_bytes.size());
  if (got_dims < 0) return Status::Error(path, "read error: " + gz_error(f.get()));
  if (got_dims < static_cast<long long>(dim_bytes.size())) {
    return Status::Error(path, "truncated idx header: " + std::to_string(ndims) +
                                   " dimensions declared, file ends inside them");
  }
  std::uint64_t total = elem;
  for (int i = 0; i < ndims; ++i) {
    const std::uint8_t* p = dim_bytes.data() + 4 * i;
    const std::uint32_t d = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                            (std::uint32_t(p[2]) << 8) | p[3];
    a.dims.push_back(d);
    total = (d == 0 || total <= options.max_bytes / d) ? total * d : options.max_bytes + 1;
  }
  if (total > options.max_bytes) {
    return Status::Error(path, "idx header declares more than " +
                                   std::to_string(options.max_bytes) + " bytes of data");
  }
  a.data.resize(total);
  const long long got_data = read_exact(f.get(), a.data.data(), a.data.size());
  if (got_data < 0) return Status::Error(path, "read error: " + gz_error(f.get()));
  if (static_cast<std::uint64_t>(got_data) < total) {
    return Status::Error(path, "truncated idx file: header declares " + std::to_string(total) +
                                   " bytes of data, found " + std::to_string(got_data));
  }
  std::uint8_t extra;
  const long long more = read_exact(f.get(), &extra, 1);
  if (more < 0) return Status::Error(path, "read error: " + gz_error(f.get()));
  if (more > 0) {
    return Status::Error(path, "idx file has data after the " + std::to_string(total) +
                                   " bytes its header declares (wrong dimensions?)");
  }
  // Big-endian to host order.
  const std::uint16_t one = 1;
  const bool little_endian_host = *reinterpret_cast<const std::uint8_t*>(&one) == 1;
  if (elem > 1 && little_endian_host) {
    for (std::size_t i = 0; i < a.data.size(); i += elem) {
      std::reverse(a.data.begin() + static_cast<std::ptrdiff_t>(i),
                   a.data.begin() + static_cast<std::ptrdiff_t>(i + elem));
    }
  }
  return a;
}

}  // namespace alexnet::data
