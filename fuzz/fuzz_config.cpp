// fuzz_config: LoadTrainConfig (train/config.h) on an arbitrary <run>/config.json: the JSON
// parser as the run folder is read, the required sections and keys, every field's type.
// Seeds: fuzz/corpus/fuzz_config (tests/train/testdata/v1/config.json and today's ToJson).
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "train/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // No try/catch: LoadTrainConfig reports every failure as a Result.
  (void)alexnet::fuzz::WriteScratchFile("config.json", data, size);
  (void)alexnet::train::LoadTrainConfig(alexnet::fuzz::ScratchDir());
  return 0;
}
