// A PyTorch state_dict of float32 tensors read from a file, without PyTorch and without
// TensorFlow (library alexnet_torch_read): the reading half of `alexnet import torchvision`.
//
//   torch.save's zip format (PyTorch >= 1.6)  <name>/data.pkl (the pickle), <name>/data/<key>
//                                             (each storage's raw bytes), <name>/byteorder; read
//                                             with libzip
//   torch.save's legacy format (< 1.6; the    five pickles (magic number, protocol version,
//   files torchvision publishes)              system info, the state_dict, the storage keys), then
//                                             each storage: int64 element count, raw data
//   .safetensors                              8-byte header length, JSON header, raw data
//
// The pickles go through our allow-list unpickler (pickle.h): nothing in a file is executed.
// Each storage is read once, straight into its tensor when the tensor is the whole storage (as
// in every state_dict of a model), so a file costs about its own size in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace alexnet::torch {

// One tensor: values row-major and contiguous (the last index varies fastest), whatever the
// strides and storage offset it was saved with. A 0-dimensional tensor has shape {} and 1 value.
struct NamedTensor {
  std::string name;            // "features.0.weight"
  std::vector<int64_t> shape;  // PyTorch's: conv [O, I, kH, kW], linear [out, in]
  std::vector<float> values;
};

// The float32 tensors of the state_dict in `path`, in the file's order (the pickle's for
// torch.save, the data's for .safetensors). The format is chosen by the content, not the file
// name. Every failure names the file and what is wrong: not a state_dict, truncated, a pickle
// calling anything but the allow-list (named), a storage that is not float32 (named with its
// tensor), a big-endian file, safetensors offsets outside the file.
Result<std::vector<NamedTensor>> ReadStateDict(const std::string& path);

// The element count of a shape (1 for {}).
int64_t ElementCount(const std::vector<int64_t>& shape);

}  // namespace alexnet::torch
