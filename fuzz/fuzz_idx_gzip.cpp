// fuzz_idx_gzip: ReadIdx (data/idx.h) on the input gzip-compressed by the target, so the
// fuzzer mutates the idx content behind a valid gzip stream (the way Fashion-MNIST ships).
// Seeds: fuzz/corpus/fuzz_idx_gzip (the same small idx files, uncompressed).
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "data/idx.h"
#include "fuzz_util.h"

namespace {

std::vector<std::uint8_t> Gzip(const std::uint8_t* data, std::size_t size) {
  z_stream z{};
  // windowBits 15 + 16: a gzip (RFC 1952) header and trailer instead of zlib's.
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(size)) + 32);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> gz = Gzip(data, size);
  const std::string path = alexnet::fuzz::WriteScratchFile("input.idx.gz", gz.data(), gz.size());
  const auto array = alexnet::data::ReadIdx(path);
  if (array.ok() && array->data.size() != array->count() * alexnet::data::IdxTypeSize(array->type)) {
    __builtin_trap();
  }
  return 0;
}
