// fuzz_color_stats: LoadColorStats (data/color_stats.h) on an arbitrary color_stats.json:
// nlohmann's parser as the library calls it, then ColorStatsFromJson's field checks.
// Seeds: fuzz/corpus/fuzz_color_stats (files written by SaveColorStats).
#include <cstddef>
#include <cstdint>

#include "data/color_stats.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // No try/catch: LoadColorStats documents failures as a Result, so an exception escaping it
  // is a bug (libFuzzer reports it as a crash).
  const std::string path = alexnet::fuzz::WriteScratchFile("color_stats.json", data, size);
  const auto stats = alexnet::data::LoadColorStats(path);
  if (stats.ok() && stats->size < 1) __builtin_trap();
  return 0;
}
