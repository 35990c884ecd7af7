// PyTorch's pickles, read by our own allow-list unpickler: only what a state_dict needs, as
// torch.load(weights_only=True) accepts. Nothing in a pickle is ever executed: the few callables
// a state_dict names (collections.OrderedDict, torch._utils._rebuild_tensor_v2, the storage
// classes; _rebuild_tensor and _rebuild_parameter too) are recognised by name and their effect
// built here; any other GLOBAL is refused with an error naming it. Every length, memo index and
// stack access is bounds-checked, so any bytes give either a value or an error
// (fuzz/fuzz_torch_pickle.cpp).
//
// Opcodes: those of protocols 0-2 that pickle and torch.save (protocol 2) emit for dicts, lists,
// tuples, ints, floats, strings, bools and None, the memo, GLOBAL, REDUCE, BUILD and BINPERSID;
// and the protocol 4 forms of the same (SHORT_BINUNICODE, MEMOIZE, FRAME, STACK_GLOBAL). Others
// (NEWOBJ, EXT*, INST, OBJ, PERSID, text INT/LONG/FLOAT, sets, ...) are refused by name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace alexnet::torch {

// A storage as the pickle's persistent id names it:
//   zip format ('storage', torch.FloatStorage, key, location, numel)
//   legacy     ('storage', torch.FloatStorage, key, location, numel, view_metadata = None)
struct StorageRef {
  std::string key;       // zip: the entry <name>/data/<key>; legacy: one of the storage keys
  std::string type;      // the storage class: "FloatStorage", "LongStorage", ...
  std::string location;  // "cpu", "cuda:0", ...: where it lived, not used
  int64_t numel = 0;     // its element count
};

// One tensor of a state_dict pickle, before its data is read: a view of `storage` (in elements,
// as torch's as_strided: element (i0, i1, ...) is storage[offset + i0 * stride[0] + ...]).
// ParseStateDictPickle checks that every element lies inside the storage and that the tensor has
// no more elements than its storage (no broadcast views), so materialising one never needs more
// memory than its storage's data, which the readers check against the file.
struct TensorRef {
  std::string name;
  StorageRef storage;
  int64_t storage_offset = 0;
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;
};

// The state_dict pickle (the zip format's data.pkl, the legacy format's fourth pickle) starting at
// `begin` in `bytes`: an OrderedDict (or dict) from names to tensors rebuilt by
// torch._utils._rebuild_tensor_v2 (or PyTorch 0.3's _rebuild_tensor, or _rebuild_parameter), in
// the pickle's order. Storages of any
// type are returned (the caller refuses those that are not float32, naming the tensor).
// `origin` names the file in errors. `end`, when not null, receives the offset after STOP.
// `ran_out`, when not null, is set when the error is that the bytes ended before STOP (a reader
// holding only a prefix of the file may read more and try again).
Result<std::vector<TensorRef>> ParseStateDictPickle(std::string_view bytes, const std::string& origin,
                                                    std::size_t begin = 0, std::size_t* end = nullptr,
                                                    bool* ran_out = nullptr);

// The pickles at the start of torch.save's legacy (pre-1.6, non-zip) format, in file order:
// the magic number 0x1950a86a20f9469cfc6c, the protocol version 1001, the system info (refused
// unless little-endian), the state_dict, the list of storage keys. The raw storages follow at
// `data_begin`: for each key in `storage_keys`' order, an int64 element count and the data.
struct LegacyPickles {
  std::vector<TensorRef> tensors;
  std::vector<std::string> storage_keys;
  std::size_t data_begin = 0;
};
Result<LegacyPickles> ParseLegacyPickles(std::string_view bytes, const std::string& origin,
                                         bool* ran_out = nullptr);

// "FloatStorage" -> true. The only storage type the readers accept.
bool IsFloat32Storage(const std::string& type);

}  // namespace alexnet::torch
