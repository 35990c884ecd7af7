// fuzz_torch_pickle: our allow-list unpickler (torch/pickle.h) as `alexnet import torchvision`
// runs it on a .pth file: the bytes as a state_dict pickle (the zip format's data.pkl), then as
// the legacy format's five pickles (magic number, protocol version, system info, state_dict,
// storage keys). Any bytes must give tensors or an error; a tensor's view must lie inside its
// storage (what the readers rely on before reading data).
// Seeds: fuzz/corpus/fuzz_torch_pickle (data.pkl of torch.save's zip format, the legacy format's
// pickles; written by tests/torch/make_state_dicts.py --seeds).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "torch/pickle.h"

namespace {

void CheckInside(const alexnet::torch::TensorRef& t) {
  int64_t last = t.storage_offset, numel = 1;
  for (std::size_t d = 0; d < t.shape.size(); ++d) {
    numel *= t.shape[d];
    if (t.shape[d] > 0) last += (t.shape[d] - 1) * t.stride[d];
  }
  if (t.shape.size() != t.stride.size() || (numel > 0 && (last >= t.storage.numel || numel > t.storage.numel))) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto tensors = alexnet::torch::ParseStateDictPickle(bytes, "data.pkl");
  if (tensors.ok()) {
    for (const auto& t : *tensors) CheckInside(t);
  }
  const auto legacy = alexnet::torch::ParseLegacyPickles(bytes, "legacy.pth");
  if (legacy.ok()) {
    if (legacy->data_begin > size) __builtin_trap();
    for (const auto& t : legacy->tensors) CheckInside(t);
  }
  return 0;
}
