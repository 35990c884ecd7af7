// fuzz_safetensors: a .safetensors file held in memory (torch/safetensors.h), as `alexnet import
// torchvision --weights x.safetensors` reads it: the 8-byte header length, the JSON header with
// nlohmann-json (dtype, shape, data_offsets, __metadata__), then each tensor's bytes. Any bytes
// must give tensors whose values match their shapes, or an error.
// Seeds: fuzz/corpus/fuzz_safetensors (written by tests/torch/make_state_dicts.py --seeds).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "torch/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto tensors = alexnet::torch::ParseSafetensors(std::string_view(reinterpret_cast<const char*>(data), size),
                                                        "x.safetensors");
  if (tensors.ok()) {
    for (const auto& t : *tensors) {
      if (static_cast<int64_t>(t.values.size()) != alexnet::torch::ElementCount(t.shape)) __builtin_trap();
    }
  }
  return 0;
}
