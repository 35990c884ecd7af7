// fuzz_idx: ReadIdx (data/idx.h) on an arbitrary file, as Fashion-MNIST's loader calls it
// (default IdxOptions). zlib reads plain and gzip files alike, so the seeds hold both.
// Seeds: fuzz/corpus/fuzz_idx (small idx files of every value type, plain and gzip'd).
#include <cstddef>
#include <cstdint>

#include "data/idx.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = alexnet::fuzz::WriteScratchFile("input.idx", data, size);
  const auto array = alexnet::data::ReadIdx(path);
  // A file that is read holds exactly count() values.
  if (array.ok() && array->data.size() != array->count() * alexnet::data::IdxTypeSize(array->type)) {
    __builtin_trap();
  }
  return 0;
}
