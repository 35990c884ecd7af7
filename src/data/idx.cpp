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

std::string GzError(gzFile f) {
  int code = 0;
  const char* msg = gzerror(f, &code);
  if (code == Z_ERRNO) return std::strerror(errno);
  return msg && *msg ? msg : "unknown error";
}

// Reads exactly n bytes; returns the count read (less at end of file), -1 on a zlib error.
long long ReadExact(gzFile f, std::uint8_t* out, std::size_t n) {
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

Status ReadError(gzFile f, const std::string& path) {
  return Status::Io(path, "read error: " + GzError(f));
}

// What the 4-byte magic declares.
struct IdxMagic {
  IdxType type;
  int ndims;
};

// Two zero bytes, a known value type, at least one dimension.
Result<IdxMagic> ReadMagic(gzFile f, const std::string& path) {
  std::uint8_t head[4];
  const long long got = ReadExact(f, head, 4);
  if (got < 0) return ReadError(f, path);
  if (got < 4) return Status::BadInput(path, "not an idx file: shorter than its 4-byte magic");
  if (head[0] != 0 || head[1] != 0) {
    return Status::BadInput(path, "not an idx file: magic must start with two zero bytes");
  }
  const IdxType type = static_cast<IdxType>(head[2]);
  if (IdxTypeSize(type) == 0 || (head[2] != 0x08 && head[2] != 0x09 && head[2] != 0x0B && head[2] != 0x0C &&
                                   head[2] != 0x0D && head[2] != 0x0E)) {
    return Status::BadInput(path, "not an idx file: unknown value type 0x" +
                                   std::string(1, "0123456789abcdef"[head[2] >> 4]) +
                                   std::string(1, "0123456789abcdef"[head[2] & 15]));
  }
  const int ndims = head[3];
  if (ndims < 1) return Status::BadInput(path, "idx file declares 0 dimensions");
  return IdxMagic{type, ndims};
}

// ndims big-endian uint32 sizes.
Result<std::vector<std::uint32_t>> ReadDims(gzFile f, const std::string& path, int ndims) {
  std::vector<std::uint8_t> dim_bytes(static_cast<std::size_t>(ndims) * 4);
  const long long got = ReadExact(f, dim_bytes.data(), dim_bytes.size());
  if (got < 0) return ReadError(f, path);
  if (got < static_cast<long long>(dim_bytes.size())) {
    return Status::BadInput(path, "truncated idx header: " + std::to_string(ndims) +
                                   " dimensions declared, file ends inside them");
  }
  std::vector<std::uint32_t> dims;
  for (int i = 0; i < ndims; ++i) {
    const std::uint8_t* p = dim_bytes.data() + 4 * i;
    dims.push_back((std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3]);
  }
  return dims;
}

// Bytes of data the header declares. Once the product passes max_bytes it is held at
// max_bytes + 1, so it cannot overflow (a later 0 dimension still makes it 0).
std::uint64_t DeclaredBytes(std::size_t elem, const std::vector<std::uint32_t>& dims, std::uint64_t max_bytes) {
  std::uint64_t total = elem;
  for (const std::uint32_t d : dims) total = (d == 0 || total <= max_bytes / d) ? total * d : max_bytes + 1;
  return total;
}

// Exactly `total` bytes, and nothing after them: a longer file means wrong dimensions.
// The buffer grows with the data actually read (doubling from 1 MiB), not to the declared size
// at once. Found by fuzzing (fuzz/fuzz_idx): an 11-byte file declaring 4.2 GB (under max_bytes)
// allocated all of it before finding the file truncated. A gzip'd file's size says nothing
// about its content's, so there is no cheaper check; the copies cost at most about 2x the data.
Status ReadData(gzFile f, const std::string& path, std::uint64_t total, std::vector<std::uint8_t>& data) {
  constexpr std::uint64_t kFirstChunk = 1u << 20;
  data.clear();
  std::uint64_t done = 0;
  while (done < total) {
    const std::uint64_t target = std::min<std::uint64_t>(total, std::max<std::uint64_t>(kFirstChunk, 2 * done));
    data.resize(target);
    const long long got = ReadExact(f, data.data() + done, target - done);
    if (got < 0) return ReadError(f, path);
    done += static_cast<std::uint64_t>(got);
    if (done < target) break;  // end of file
  }
  if (done < total) {
    return Status::BadInput(path, "truncated idx file: header declares " + std::to_string(total) +
                                   " bytes of data, found " + std::to_string(done));
  }
  std::uint8_t extra;
  const long long more = ReadExact(f, &extra, 1);
  if (more < 0) return ReadError(f, path);
  if (more > 0) {
    return Status::BadInput(path, "idx file has data after the " + std::to_string(total) +
                                   " bytes its header declares (wrong dimensions?)");
  }
  return Status::Ok();
}

// idx values are big-endian; swap each elem-byte value on a little-endian host.
void ToHostOrder(std::size_t elem, std::vector<std::uint8_t>& data) {
  const std::uint16_t one = 1;
  const bool little_endian_host = *reinterpret_cast<const std::uint8_t*>(&one) == 1;
  if (elem <= 1 || !little_endian_host) return;
  for (std::size_t i = 0; i < data.size(); i += elem) {
    std::reverse(data.begin() + static_cast<std::ptrdiff_t>(i), data.begin() + static_cast<std::ptrdiff_t>(i + elem));
  }
}

}  // namespace

std::size_t IdxTypeSize(IdxType type) {
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

Result<IdxArray> ReadIdx(const std::string& path, const IdxOptions& options) {
  errno = 0;
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) {
    return Status::Error(ErrnoCode(errno), path, std::string("cannot open: ") +
                                   (errno ? std::strerror(errno) : "out of memory"));
  }
  gzbuffer(f.get(), 1 << 16);
  ALEXNET_ASSIGN_OR_RETURN(const IdxMagic magic, ReadMagic(f.get(), path));
  IdxArray a;
  a.type = magic.type;
  ALEXNET_ASSIGN_OR_RETURN(a.dims, ReadDims(f.get(), path, magic.ndims));
  const std::size_t elem = IdxTypeSize(a.type);
  const std::uint64_t total = DeclaredBytes(elem, a.dims, options.max_bytes);
  if (total > options.max_bytes) {  // before allocating: a corrupt header must not cost gigabytes
    return Status::BadInput(path, "idx header declares more than " +
                                   std::to_string(options.max_bytes) + " bytes of data");
  }
  ALEXNET_RETURN_IF_ERROR(ReadData(f.get(), path, total, a.data));
  ToHostOrder(elem, a.data);
  return a;
}

}  // namespace alexnet::data
