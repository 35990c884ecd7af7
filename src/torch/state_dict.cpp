#include "torch/state_dict.h"

#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string_view>

#include "torch/pickle.h"
#include "torch/safetensors.h"

namespace alexnet::torch {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the readers copy little-endian float32 bytes into floats as they are");

namespace {

// The pickles are small (a few kB for AlexNet); more than this in data.pkl is not a state_dict.
constexpr uint64_t kMaxPickleBytes = uint64_t(256) << 20;

// Reads the next `bytes` bytes of a storage's data into `dst`.
using ReadFn = std::function<Status(char* dst, uint64_t bytes)>;

// The tensors (indices into the pickle's list) that view one storage.
struct StorageUse {
  StorageRef storage;
  std::vector<std::size_t> tensors;
};

// Groups the tensors by storage key, in order of first use; refuses storages that are not
// float32 (naming the tensor) and one key named with two types or sizes.
Result<std::vector<StorageUse>> GroupByStorage(const std::vector<TensorRef>& refs, const std::string& origin) {
  std::vector<StorageUse> uses;
  std::map<std::string, std::size_t> by_key;
  for (std::size_t i = 0; i < refs.size(); ++i) {
    const TensorRef& t = refs[i];
    if (!IsFloat32Storage(t.storage.type)) {
      return Status::BadInput(origin, "tensor '" + t.name + "' is stored as torch." + t.storage.type +
                                          ": only float32 tensors (torch.FloatStorage) are read");
    }
    const auto [it, added] = by_key.emplace(t.storage.key, uses.size());
    if (added) {
      uses.push_back({t.storage, {}});
    } else if (uses[it->second].storage.numel != t.storage.numel) {
      return Status::BadInput(origin, "storage '" + t.storage.key + "' is named with two sizes");
    }
    uses[it->second].tensors.push_back(i);
  }
  return uses;
}

// A tensor that is its whole storage, in order: its values are the storage's bytes.
bool IsWholeStorage(const TensorRef& t) {
  if (t.storage_offset != 0 || ElementCount(t.shape) != t.storage.numel) return false;
  int64_t expected = 1;
  for (std::size_t d = t.shape.size(); d-- > 0;) {
    if (t.shape[d] != 1 && t.stride[d] != expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

// The view `t` of `storage` (checked by ParseStateDictPickle to lie inside it), row-major.
void Materialize(const float* storage, const TensorRef& t, std::vector<float>* out) {
  const int64_t n = ElementCount(t.shape);
  out->assign(static_cast<std::size_t>(n), 0.0f);
  if (n == 0) return;
  const std::size_t rank = t.shape.size();
  std::vector<int64_t> index(rank, 0);
  int64_t src = t.storage_offset;
  for (int64_t k = 0; k < n; ++k) {
    (*out)[static_cast<std::size_t>(k)] = storage[src];
    for (std::size_t d = rank; d-- > 0;) {  // the next index, last dimension fastest
      if (++index[d] < t.shape[d]) {
        src += t.stride[d];
        break;
      }
      src -= (t.shape[d] - 1) * t.stride[d];
      index[d] = 0;
    }
  }
}

// Reads one storage (once) into the tensors that view it: straight into the tensor's values when
// one tensor is the whole storage, else through a buffer freed before the next storage.
Status FillFromStorage(const StorageUse& use, const std::vector<TensorRef>& refs, std::vector<NamedTensor>* out,
                       const ReadFn& read) {
  const uint64_t bytes = uint64_t(use.storage.numel) * 4;
  if (use.tensors.size() == 1 && IsWholeStorage(refs[use.tensors[0]])) {
    std::vector<float>& values = (*out)[use.tensors[0]].values;
    values.resize(static_cast<std::size_t>(use.storage.numel));
    return read(reinterpret_cast<char*>(values.data()), bytes);
  }
  std::vector<float> buffer(static_cast<std::size_t>(use.storage.numel));
  ALEXNET_RETURN_IF_ERROR(read(reinterpret_cast<char*>(buffer.data()), bytes));
  for (const std::size_t i : use.tensors) Materialize(buffer.data(), refs[i], &(*out)[i].values);
  return Status::Ok();
}

// The named tensors with names and shapes, values still empty.
std::vector<NamedTensor> Shells(const std::vector<TensorRef>& refs) {
  std::vector<NamedTensor> out;
  out.reserve(refs.size());
  for (const TensorRef& t : refs) out.push_back({t.name, t.shape, {}});
  return out;
}

// ---- files -----------------------------------------------------------------------------------

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

Status ReadExactly(std::FILE* f, char* dst, uint64_t bytes, const std::string& path, const std::string& what) {
  if (bytes > 0 && std::fread(dst, 1, bytes, f) != bytes) {
    return std::ferror(f) ? Status::Io(path, "cannot read " + what + ": " + std::strerror(errno))
                          : Status::BadInput(path, "truncated: the file ends inside " + what);
  }
  return Status::Ok();
}

// The file's first min(size, bytes) bytes.
Status ReadPrefix(std::FILE* f, uint64_t file_size, uint64_t bytes, std::string* out, const std::string& path) {
  out->resize(static_cast<std::size_t>(std::min(file_size, bytes)));
  if (std::fseek(f, 0, SEEK_SET) != 0) return Status::Io(path, std::string("cannot seek: ") + std::strerror(errno));
  return ReadExactly(f, out->data(), out->size(), path, "the header");
}

// ---- torch.save's legacy format --------------------------------------------------------------

Result<std::vector<NamedTensor>> ReadLegacy(std::FILE* f, uint64_t file_size, const std::string& path) {
  // The pickles' length is known only by parsing them: parse a prefix, a larger one if it ran out.
  std::string prefix;
  uint64_t want = uint64_t(1) << 20;
  LegacyPickles pickles;
  for (;;) {
    ALEXNET_RETURN_IF_ERROR(ReadPrefix(f, file_size, want, &prefix, path));
    bool ran_out = false;
    auto parsed = ParseLegacyPickles(prefix, path, &ran_out);
    if (parsed.ok()) {
      pickles = std::move(parsed).value();
      break;
    }
    if (!ran_out || prefix.size() >= file_size || want >= kMaxPickleBytes) return parsed.status();
    want *= 4;
  }
  prefix = std::string();
  ALEXNET_ASSIGN_OR_RETURN(const auto uses, GroupByStorage(pickles.tensors, path));
  std::map<std::string, const StorageUse*> by_key;
  for (const StorageUse& u : uses) by_key[u.storage.key] = &u;
  std::vector<NamedTensor> out = Shells(pickles.tensors);

  if (std::fseek(f, static_cast<long>(pickles.data_begin), SEEK_SET) != 0) {
    return Status::Io(path, std::string("cannot seek: ") + std::strerror(errno));
  }
  uint64_t pos = pickles.data_begin;
  std::size_t filled = 0;
  for (std::size_t k = 0; k < pickles.storage_keys.size(); ++k) {
    const std::string& key = pickles.storage_keys[k];
    const auto it = by_key.find(key);
    if (it == by_key.end() || it->second == nullptr) {
      return Status::BadInput(path, "storage '" + key + "' in the storage keys is used by no tensor, or listed twice");
    }
    const StorageUse& use = *it->second;
    it->second = nullptr;
    const std::string what = "storage '" + key + "' (" + std::to_string(k + 1) + " of " +
                             std::to_string(pickles.storage_keys.size()) + ")";
    char count_bytes[8];
    ALEXNET_RETURN_IF_ERROR(ReadExactly(f, count_bytes, 8, path, what));
    int64_t count = 0;
    std::memcpy(&count, count_bytes, 8);
    if (count != use.storage.numel) {
      return Status::BadInput(path, what + " holds " + std::to_string(count) + " elements, its pickle says " +
                                        std::to_string(use.storage.numel));
    }
    pos += 8;
    const uint64_t bytes = uint64_t(count) * 4;
    if (bytes > file_size - pos) {  // before allocating anything for it
      return Status::BadInput(path, "truncated: " + what + " needs " + std::to_string(bytes) + " bytes, the file has " +
                                        std::to_string(file_size - pos) + " left");
    }
    ALEXNET_RETURN_IF_ERROR(FillFromStorage(use, pickles.tensors, &out, [&](char* dst, uint64_t n) {
      return ReadExactly(f, dst, n, path, what);
    }));
    pos += bytes;
    ++filled;
  }
  if (filled != uses.size()) {
    for (const auto& [key, use] : by_key) {
      if (use) {
        return Status::BadInput(path, "tensor '" + pickles.tensors[use->tensors[0]].name + "' views storage '" + key +
                                          "', which is not in the file's storage keys");
      }
    }
  }
  return out;
}

// ---- torch.save's zip format -----------------------------------------------------------------

struct ZipDiscard {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileClose {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

std::string ZipErrorText(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string text = zip_error_strerror(&e);
  zip_error_fini(&e);
  return text;
}

// Reads entry `index` (`size` bytes, checked by the caller) into dst.
Status ReadZipEntry(zip_t* z, zip_uint64_t index, char* dst, uint64_t size, const std::string& path,
                    const std::string& name) {
  std::unique_ptr<zip_file_t, ZipFileClose> file(zip_fopen_index(z, index, 0));
  if (!file) return Status::BadInput(path, "cannot open " + name + " in the zip: " + zip_strerror(z));
  uint64_t done = 0;
  while (done < size) {
    const zip_int64_t n = zip_fread(file.get(), dst + done, size - done);
    if (n < 0) return Status::BadInput(path, "cannot read " + name + " in the zip: " + zip_file_strerror(file.get()));
    if (n == 0) return Status::BadInput(path, "truncated: " + name + " in the zip ends early");
    done += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

// The entry's index and uncompressed size, or not found. A size the entry's compressed bytes
// cannot hold (more than deflate's best ratio, 1032:1, or compressed bytes beyond the file) is
// refused here, before anything is allocated for it.
Status FindZipEntry(zip_t* z, const std::string& name, uint64_t file_size, zip_uint64_t* index, uint64_t* size,
                    bool* found, const std::string& path) {
  *found = false;
  const zip_int64_t i = zip_name_locate(z, name.c_str(), 0);
  if (i < 0) return Status::Ok();
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
      !(st.valid & ZIP_STAT_COMP_SIZE)) {
    return Status::BadInput(path, "cannot stat " + name + " in the zip: " + zip_strerror(z));
  }
  if (st.comp_size > file_size || st.size / 1032 > st.comp_size) {
    return Status::BadInput(path, name + " in the zip claims " + std::to_string(st.size) + " bytes from " +
                                      std::to_string(st.comp_size) + " compressed: damaged");
  }
  *index = static_cast<zip_uint64_t>(i);
  *size = st.size;
  *found = true;
  return Status::Ok();
}

Result<std::vector<NamedTensor>> ReadZip(const std::string& path, uint64_t file_size) {
  int error = 0;
  std::unique_ptr<zip_t, ZipDiscard> zip(zip_open(path.c_str(), ZIP_RDONLY, &error));
  if (!zip) return Status::BadInput(path, "not a readable zip (truncated or damaged?): " + ZipErrorText(error));
  zip_t* z = zip.get();

  // torch.save writes <name>/data.pkl, <name> being the file's stem at saving time ("archive").
  std::string root;
  bool found = false;
  const zip_int64_t entries = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < entries && !found; ++i) {
    const char* raw = zip_get_name(z, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
    if (!raw) continue;
    const std::string name = raw;
    const std::size_t slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      root = name.substr(0, slash + 1);
      found = true;
    }
  }
  if (!found) {
    return Status::BadInput(path, "a zip without <name>/data.pkl: not a file torch.save wrote (its zip holds "
                                  "archive/data.pkl and archive/data/<key>)");
  }

  zip_uint64_t index = 0;
  uint64_t size = 0;
  bool found_entry = false;
  ALEXNET_RETURN_IF_ERROR(FindZipEntry(z, root + "byteorder", file_size, &index, &size, &found_entry, path));
  if (found_entry) {  // PyTorch >= 2.0 writes it; without: little
    std::string order(static_cast<std::size_t>(std::min<uint64_t>(size, 16)), '\0');
    ALEXNET_RETURN_IF_ERROR(ReadZipEntry(z, index, order.data(), order.size(), path, root + "byteorder"));
    if (order != "little") {
      return Status::BadInput(path, root + "byteorder says '" + order + "': only little-endian files are read");
    }
  }

  ALEXNET_RETURN_IF_ERROR(FindZipEntry(z, root + "data.pkl", file_size, &index, &size, &found_entry, path));
  if (!found_entry) return Status::BadInput(path, "cannot find " + root + "data.pkl");
  if (size > kMaxPickleBytes) {
    return Status::BadInput(path, root + "data.pkl is " + std::to_string(size) + " bytes: not a state_dict's pickle");
  }
  std::string pickle(static_cast<std::size_t>(size), '\0');
  ALEXNET_RETURN_IF_ERROR(ReadZipEntry(z, index, pickle.data(), size, path, root + "data.pkl"));
  auto parsed = ParseStateDictPickle(pickle, path);
  if (!parsed.ok()) return parsed.status().With(root + "data.pkl");  // the file stays the Status's path
  const std::vector<TensorRef> refs = std::move(parsed).value();
  pickle = std::string();
  ALEXNET_ASSIGN_OR_RETURN(const auto uses, GroupByStorage(refs, path));

  std::vector<NamedTensor> out = Shells(refs);
  for (const StorageUse& use : uses) {
    const std::string name = root + "data/" + use.storage.key;
    ALEXNET_RETURN_IF_ERROR(FindZipEntry(z, name, file_size, &index, &size, &found_entry, path));
    if (!found_entry) {
      return Status::BadInput(path, "tensor '" + refs[use.tensors[0]].name + "': its storage " + name +
                                        " is not in the zip");
    }
    if (size != uint64_t(use.storage.numel) * 4) {  // before allocating anything for it
      return Status::BadInput(path, name + " holds " + std::to_string(size) + " bytes, its pickle says " +
                                        std::to_string(use.storage.numel) + " floats");
    }
    ALEXNET_RETURN_IF_ERROR(FillFromStorage(use, refs, &out, [&](char* dst, uint64_t n) {
      return ReadZipEntry(z, index, dst, n, path, name);
    }));
  }
  return out;
}

// ---- .safetensors ----------------------------------------------------------------------------

Result<std::vector<NamedTensor>> ReadSafetensors(std::FILE* f, uint64_t file_size, const std::string& path) {
  std::string prefix;
  ALEXNET_RETURN_IF_ERROR(ReadPrefix(f, file_size, 8, &prefix, path));
  bool ran_out = false;
  auto entries = ParseSafetensorsHeader(prefix, file_size, path, &ran_out);
  if (ran_out) {  // the length is checked: at most 100 MB and inside the file
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(prefix[static_cast<std::size_t>(i)])) << (8 * i);
    ALEXNET_RETURN_IF_ERROR(ReadPrefix(f, file_size, 8 + n, &prefix, path));
    entries = ParseSafetensorsHeader(prefix, file_size, path);
  }
  if (!entries.ok()) return entries.status();
  prefix = std::string();
  std::vector<NamedTensor> out;
  for (const SafetensorsEntry& e : *entries) {
    NamedTensor t{e.name, e.shape, std::vector<float>(static_cast<std::size_t>((e.end - e.begin) / 4))};
    if (std::fseek(f, static_cast<long>(e.begin), SEEK_SET) != 0) {
      return Status::Io(path, std::string("cannot seek: ") + std::strerror(errno));
    }
    ALEXNET_RETURN_IF_ERROR(ReadExactly(f, reinterpret_cast<char*>(t.values.data()), e.end - e.begin, path,
                                        "tensor '" + e.name + "'"));
    out.push_back(std::move(t));
  }
  return out;
}

// ReadStateDict without its guard against running out of memory.
Result<std::vector<NamedTensor>> ReadStateDictFile(const std::string& path);

}  // namespace

int64_t ElementCount(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

Result<std::vector<NamedTensor>> ReadStateDict(const std::string& path) {
  // Every size is checked against the file before anything is allocated for it; a file whose
  // tensors are simply larger than the memory left is still an error, not an exception.
  try {
    return ReadStateDictFile(path);
  } catch (const std::bad_alloc&) {
    return Status::Io(path, "not enough memory to hold its tensors");
  }
}

namespace {

Result<std::vector<NamedTensor>> ReadStateDictFile(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return Status::Error(ErrnoCode(errno), path, std::string("cannot open: ") + std::strerror(errno));
  if (std::fseek(f.get(), 0, SEEK_END) != 0) return Status::Io(path, std::string("cannot seek: ") + std::strerror(errno));
  const long end = std::ftell(f.get());
  if (end < 0) return Status::Io(path, std::string("cannot tell its size: ") + std::strerror(errno));
  const uint64_t size = static_cast<uint64_t>(end);
  std::string head;
  ALEXNET_RETURN_IF_ERROR(ReadPrefix(f.get(), size, 16, &head, path));

  if (head.size() >= 4 && (head.compare(0, 4, "PK\x03\x04") == 0 || head.compare(0, 4, "PK\x05\x06") == 0)) {
    f.reset();
    return ReadZip(path, size);
  }
  if (head.size() >= 2 && uint8_t(head[0]) == 0x80 && uint8_t(head[1]) <= 5) return ReadLegacy(f.get(), size, path);
  if (head.size() >= 9 && head[8] == '{') return ReadSafetensors(f.get(), size, path);
  if (size == 0) return Status::BadInput(path, "empty file: not a PyTorch state_dict");
  return Status::BadInput(path, "not a PyTorch state_dict: neither torch.save's zip or legacy format nor .safetensors");
}

}  // namespace

}  // namespace alexnet::torch
