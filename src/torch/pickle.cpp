#include "torch/pickle.h"

#include <cstring>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

namespace alexnet::torch {
namespace {

// ---- the values a pickle may build ---------------------------------------------------------

enum class Kind { kNone, kBool, kInt, kBigInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kStorage, kTensor };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kBigInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kBytes: return "bytes";
    case Kind::kTuple: return "tuple";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kGlobal: return "global";
    case Kind::kStorage: return "storage";
    case Kind::kTensor: return "tensor";
  }
  return "?";
}

// "a list", "an int": for messages.
std::string A(Kind k) { return (k == Kind::kInt || k == Kind::kBigInt ? "an " : "a ") + std::string(KindName(k)); }

// Owned by the Unpickler's arena and pointed to by raw pointers: the memo and the stack share
// values, lists may contain themselves, and nothing is freed before the whole parse ends.
struct Value {
  explicit Value(Kind k) : kind(k) {}
  Kind kind;
  bool flag = false;     // bool's value; dict: is a collections.OrderedDict
  int64_t integer = 0;   // int
  double number = 0;     // float
  std::string text;      // str, bytes, a big int's little-endian bytes, a global's "module.name"
  std::vector<Value*> items;                       // tuple, list
  std::vector<std::pair<Value*, Value*>> entries;  // dict, in insertion order
  StorageRef storage;                              // storage
  TensorRef tensor;                                // tensor (name empty)
};

// The callables and classes a state_dict's pickle names. Anything else is refused at GLOBAL.
const std::set<std::string>& StorageClasses() {
  static const std::set<std::string> names = {
      "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage",
      "ShortStorage", "CharStorage",   "ByteStorage", "BoolStorage",     "ComplexFloatStorage",
      "ComplexDoubleStorage"};
  return names;
}
constexpr const char* kOrderedDict = "collections.OrderedDict";
constexpr const char* kRebuildTensorV2 = "torch._utils._rebuild_tensor_v2";
constexpr const char* kRebuildTensor = "torch._utils._rebuild_tensor";  // PyTorch 0.3's files
constexpr const char* kRebuildParameter = "torch._utils._rebuild_parameter";

bool IsStorageClass(const std::string& global) {
  return global.rfind("torch.", 0) == 0 && StorageClasses().count(global.substr(6)) > 0;
}
bool IsAllowedGlobal(const std::string& global) {
  return global == kOrderedDict || global == kRebuildTensorV2 || global == kRebuildTensor || global == kRebuildParameter ||
         IsStorageClass(global);
}

// Names of the opcodes we refuse, so the error says what the pickle asked for.
const char* OpcodeName(uint8_t op) {
  switch (op) {
    case 'I': return "INT";
    case 'L': return "LONG";
    case 'F': return "FLOAT";
    case 'S': return "STRING";
    case 'V': return "UNICODE";
    case 'P': return "PERSID";
    case 'g': return "GET";
    case 'p': return "PUT";
    case 'i': return "INST";
    case 'o': return "OBJ";
    case 0x81: return "NEWOBJ";
    case 0x92: return "NEWOBJ_EX";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x8b: return "LONG4";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
  }
}

std::string Hex(uint8_t b) {
  static const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

// Reads one pickle, from `pos` to its STOP.
class Unpickler {
 public:
  // legacy: persistent ids have the legacy format's sixth element (view_metadata).
  Unpickler(std::string_view bytes, std::size_t pos, const std::string& origin, bool legacy)
      : bytes_(bytes), pos_(pos), origin_(origin), legacy_(legacy) {}

  Result<Value*> Run();
  std::size_t pos() const { return pos_; }
  bool ran_out() const { return ran_out_; }

 private:
  Value* New(Kind k) {
    arena_.push_back(std::make_unique<Value>(k));
    return arena_.back().get();
  }
  Status Fail(const std::string& reason) const {
    return Status::BadInput(origin_, "pickle (byte " + std::to_string(op_pos_) + "): " + reason);
  }
  Status RanOut() {
    ran_out_ = true;
    return Fail("truncated: the file ends inside the pickle");
  }
  // The next n bytes, or RanOut.
  Status Take(std::size_t n, std::string_view* out) {
    if (pos_ > bytes_.size() || n > bytes_.size() - pos_) return RanOut();
    *out = bytes_.substr(pos_, n);
    pos_ += n;
    return Status::Ok();
  }
  Status TakeUnsigned(std::size_t n, uint64_t* out) {  // little-endian
    std::string_view b;
    ALEXNET_RETURN_IF_ERROR(Take(n, &b));
    *out = 0;
    for (std::size_t i = 0; i < n; ++i) *out |= uint64_t(uint8_t(b[i])) << (8 * i);
    return Status::Ok();
  }
  Status TakeLine(std::string* out) {  // GLOBAL's text fields end with a newline
    const std::size_t nl = pos_ <= bytes_.size() ? bytes_.find('\n', pos_) : std::string_view::npos;
    if (nl == std::string_view::npos) return RanOut();
    *out = std::string(bytes_.substr(pos_, nl - pos_));
    pos_ = nl + 1;
    return Status::Ok();
  }

  std::size_t Floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Status Pop(Value** out) {
    if (stack_.size() <= Floor()) return Fail("stack underflow");
    *out = stack_.back();
    stack_.pop_back();
    return Status::Ok();
  }
  Status Top(Value** out) const {
    if (stack_.size() <= Floor()) return Fail("stack underflow");
    *out = stack_.back();
    return Status::Ok();
  }
  // The items since the last MARK (removed with the mark).
  Status PopMark(std::vector<Value*>* items) {
    if (marks_.empty()) return Fail("no MARK before an opcode that needs one");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    items->assign(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return Status::Ok();
  }
  Status Memoize(uint64_t index) {
    Value* v = nullptr;
    ALEXNET_RETURN_IF_ERROR(Top(&v));
    memo_[index] = v;
    return Status::Ok();
  }
  Status Recall(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) return Fail("memo index " + std::to_string(index) + " was never stored");
    stack_.push_back(it->second);
    return Status::Ok();
  }
  Status PushString(Kind kind, std::size_t length_bytes) {
    uint64_t n = 0;
    ALEXNET_RETURN_IF_ERROR(TakeUnsigned(length_bytes, &n));
    std::string_view b;
    ALEXNET_RETURN_IF_ERROR(Take(n, &b));  // refuses a length beyond the bytes before allocating
    Value* v = New(kind);
    v->text = std::string(b);
    stack_.push_back(v);
    return Status::Ok();
  }
  Status PushInt(int64_t i) {
    Value* v = New(Kind::kInt);
    v->integer = i;
    stack_.push_back(v);
    return Status::Ok();
  }
  Status PushGlobal(const std::string& module, const std::string& name) {
    const std::string global = module + "." + name;
    if (!IsAllowedGlobal(global)) {
      return Fail("the pickle calls " + global +
                  ", which a state_dict never needs: refused (nothing in the file is run; a state_dict "
                  "holds only OrderedDict, torch._utils._rebuild_tensor_v2 and storages)");
    }
    Value* v = New(Kind::kGlobal);
    v->text = global;
    stack_.push_back(v);
    return Status::Ok();
  }
  Status Reduce();
  Status Build();
  Status PersistentLoad();
  Status AddItems(Value* dict, const std::vector<Value*>& kv);
  Status Step(uint8_t op, bool* stop);

  std::string_view bytes_;
  std::size_t pos_;
  std::size_t op_pos_ = 0;
  const std::string& origin_;
  bool legacy_;
  bool ran_out_ = false;
  std::vector<std::unique_ptr<Value>> arena_;
  std::vector<Value*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
};

Result<Value*> Unpickler::Run() {
  for (;;) {
    op_pos_ = pos_;
    std::string_view b;
    ALEXNET_RETURN_IF_ERROR(Take(1, &b));
    bool stop = false;
    ALEXNET_RETURN_IF_ERROR(Step(uint8_t(b[0]), &stop));
    if (stop) {
      Value* v = nullptr;
      ALEXNET_RETURN_IF_ERROR(Pop(&v));
      return v;
    }
  }
}

Status Unpickler::Step(uint8_t op, bool* stop) {
  switch (op) {
    case 0x80: {  // PROTO
      uint64_t p = 0;
      ALEXNET_RETURN_IF_ERROR(TakeUnsigned(1, &p));
      if (p > 5) return Fail("pickle protocol " + std::to_string(p) + " (at most 5 exists)");
      return Status::Ok();
    }
    case 0x95: {  // FRAME: a length prefix for buffering, nothing to build
      uint64_t n = 0;
      return TakeUnsigned(8, &n);
    }
    case '.': *stop = true; return Status::Ok();  // STOP
    case '(': marks_.push_back(stack_.size()); return Status::Ok();  // MARK
    case '0': {  // POP: the top item, or a MARK with nothing above it
      if (stack_.size() > Floor()) {
        stack_.pop_back();
      } else if (!marks_.empty()) {
        marks_.pop_back();
      } else {
        return Fail("stack underflow");
      }
      return Status::Ok();
    }
    case '1': {  // POP_MARK
      std::vector<Value*> dropped;
      return PopMark(&dropped);
    }
    case '2': {  // DUP
      Value* v = nullptr;
      ALEXNET_RETURN_IF_ERROR(Top(&v));
      stack_.push_back(v);
      return Status::Ok();
    }
    case 'N': stack_.push_back(New(Kind::kNone)); return Status::Ok();
    case 0x88:    // NEWTRUE
    case 0x89: {  // NEWFALSE
      Value* v = New(Kind::kBool);
      v->flag = op == 0x88;
      stack_.push_back(v);
      return Status::Ok();
    }
    case 'J': {  // BININT: 4 bytes, signed
      uint64_t u = 0;
      ALEXNET_RETURN_IF_ERROR(TakeUnsigned(4, &u));
      return PushInt(int64_t(int32_t(uint32_t(u))));
    }
    case 'K': {  // BININT1
      uint64_t u = 0;
      ALEXNET_RETURN_IF_ERROR(TakeUnsigned(1, &u));
      return PushInt(int64_t(u));
    }
    case 'M': {  // BININT2
      uint64_t u = 0;
      ALEXNET_RETURN_IF_ERROR(TakeUnsigned(2, &u));
      return PushInt(int64_t(u));
    }
    case 0x8a: {  // LONG1: n bytes, two's complement, little-endian
      uint64_t n = 0;
      ALEXNET_RETURN_IF_ERROR(TakeUnsigned(1, &n));
      std::string_view b;
      ALEXNET_RETURN_IF_ERROR(Take(n, &b));
      if (n > 8) {  // torch's magic number: kept as bytes, compared as bytes
        Value* v = New(Kind::kBigInt);
        v->text = std::string(b);
        stack_.push_back(v);
        return Status::Ok();
      }
      uint64_t u = 0;
      for (std::size_t i = 0; i < n; ++i) u |= uint64_t(uint8_t(b[i])) << (8 * i);
      if (n > 0 && n < 8 && (uint8_t(b[n - 1]) & 0x80)) u |= ~uint64_t(0) << (8 * n);  // sign-extend
      int64_t i = 0;
      std::memcpy(&i, &u, sizeof i);
      return PushInt(i);
    }
    case 'G': {  // BINFLOAT: 8 bytes, big-endian IEEE double
      std::string_view b;
      ALEXNET_RETURN_IF_ERROR(Take(8, &b));
      uint64_t u = 0;
      for (std::size_t i = 0; i < 8; ++i) u = (u << 8) | uint8_t(b[i]);
      Value* v = New(Kind::kFloat);
      std::memcpy(&v->number, &u, sizeof u);
      stack_.push_back(v);
      return Status::Ok();
    }
    case 'X': return PushString(Kind::kString, 4);     // BINUNICODE
    case 0x8c: return PushString(Kind::kString, 1);    // SHORT_BINUNICODE
    case 0x8d: return PushString(Kind::kString, 8);    // BINUNICODE8
    case 'T': return PushString(Kind::kString, 4);     // BINSTRING (Python 2's str)
    case 'U': return PushString(Kind::kString, 1);     // SHORT_BINSTRING
    case 'B': return PushString(Kind::kBytes, 4);      // BINBYTES
    case 'C': return PushString(Kind::kBytes, 1);      // SHORT_BINBYTES
    case ')': stack_.push_back(New(Kind::kTuple)); return Status::Ok();  // EMPTY_TUPLE
    case 't': {  // TUPLE: the items since MARK
      Value* v = New(Kind::kTuple);
      ALEXNET_RETURN_IF_ERROR(PopMark(&v->items));
      stack_.push_back(v);
      return Status::Ok();
    }
    case 0x85:    // TUPLE1
    case 0x86:    // TUPLE2
    case 0x87: {  // TUPLE3
      const std::size_t n = op - 0x84u;
      if (stack_.size() < Floor() + n) return Fail("stack underflow");
      Value* v = New(Kind::kTuple);
      v->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
      stack_.resize(stack_.size() - n);
      stack_.push_back(v);
      return Status::Ok();
    }
    case ']': stack_.push_back(New(Kind::kList)); return Status::Ok();  // EMPTY_LIST
    case 'l': {  // LIST
      Value* v = New(Kind::kList);
      ALEXNET_RETURN_IF_ERROR(PopMark(&v->items));
      stack_.push_back(v);
      return Status::Ok();
    }
    case 'a': {  // APPEND
      Value *item = nullptr, *list = nullptr;
      ALEXNET_RETURN_IF_ERROR(Pop(&item));
      ALEXNET_RETURN_IF_ERROR(Top(&list));
      if (list->kind != Kind::kList) return Fail("APPEND to " + A(list->kind));
      list->items.push_back(item);
      return Status::Ok();
    }
    case 'e': {  // APPENDS
      std::vector<Value*> items;
      ALEXNET_RETURN_IF_ERROR(PopMark(&items));
      Value* list = nullptr;
      ALEXNET_RETURN_IF_ERROR(Top(&list));
      if (list->kind != Kind::kList) return Fail("APPENDS to " + A(list->kind));
      list->items.insert(list->items.end(), items.begin(), items.end());
      return Status::Ok();
    }
    case '}': stack_.push_back(New(Kind::kDict)); return Status::Ok();  // EMPTY_DICT
    case 'd': {  // DICT
      std::vector<Value*> kv;
      ALEXNET_RETURN_IF_ERROR(PopMark(&kv));
      Value* dict = New(Kind::kDict);
      ALEXNET_RETURN_IF_ERROR(AddItems(dict, kv));
      stack_.push_back(dict);
      return Status::Ok();
    }
    case 's': {  // SETITEM
      Value *value = nullptr, *key = nullptr, *dict = nullptr;
      ALEXNET_RETURN_IF_ERROR(Pop(&value));
      ALEXNET_RETURN_IF_ERROR(Pop(&key));
      ALEXNET_RETURN_IF_ERROR(Top(&dict));
      return AddItems(dict, {key, value});
    }
    case 'u': {  // SETITEMS
      std::vector<Value*> kv;
      ALEXNET_RETURN_IF_ERROR(PopMark(&kv));
      Value* dict = nullptr;
      ALEXNET_RETURN_IF_ERROR(Top(&dict));
      return AddItems(dict, kv);
    }
    case 'q': {  // BINPUT
      uint64_t i = 0;
      ALEXNET_RETURN_IF_ERROR(TakeUnsigned(1, &i));
      return Memoize(i);
    }
    case 'r': {  // LONG_BINPUT
      uint64_t i = 0;
      ALEXNET_RETURN_IF_ERROR(TakeUnsigned(4, &i));
      return Memoize(i);
    }
    case 0x94: return Memoize(memo_.size());  // MEMOIZE
    case 'h': {  // BINGET
      uint64_t i = 0;
      ALEXNET_RETURN_IF_ERROR(TakeUnsigned(1, &i));
      return Recall(i);
    }
    case 'j': {  // LONG_BINGET
      uint64_t i = 0;
      ALEXNET_RETURN_IF_ERROR(TakeUnsigned(4, &i));
      return Recall(i);
    }
    case 'c': {  // GLOBAL: "module\nname\n"
      std::string module, name;
      ALEXNET_RETURN_IF_ERROR(TakeLine(&module));
      ALEXNET_RETURN_IF_ERROR(TakeLine(&name));
      return PushGlobal(module, name);
    }
    case 0x93: {  // STACK_GLOBAL
      Value *name = nullptr, *module = nullptr;
      ALEXNET_RETURN_IF_ERROR(Pop(&name));
      ALEXNET_RETURN_IF_ERROR(Pop(&module));
      if (name->kind != Kind::kString || module->kind != Kind::kString) return Fail("STACK_GLOBAL of a non-string");
      return PushGlobal(module->text, name->text);
    }
    case 'R': return Reduce();
    case 'b': return Build();
    case 'Q': return PersistentLoad();  // BINPERSID
    default: {
      const char* name = OpcodeName(op);
      return Fail(name ? std::string("opcode ") + name + " (" + Hex(op) + "), which a state_dict's pickle never uses"
                       : "unknown opcode " + Hex(op) + ": not a pickle, or a damaged one");
    }
  }
}

Status Unpickler::AddItems(Value* dict, const std::vector<Value*>& kv) {
  if (dict->kind != Kind::kDict) return Fail("SETITEM on " + A(dict->kind));
  if (kv.size() % 2) return Fail("SETITEMS with an odd number of items");
  for (std::size_t i = 0; i < kv.size(); i += 2) dict->entries.emplace_back(kv[i], kv[i + 1]);
  return Status::Ok();
}

// A tuple of non-negative ints (a size or a stride).
bool NonNegativeInts(const Value* v, std::vector<int64_t>* out) {
  if (v->kind != Kind::kTuple) return false;
  out->clear();
  for (const Value* i : v->items) {
    if (i->kind != Kind::kInt || i->integer < 0) return false;
    out->push_back(i->integer);
  }
  return true;
}

// The allow-listed callables, built here instead of called.
Status Unpickler::Reduce() {
  Value *args = nullptr, *callable = nullptr;
  ALEXNET_RETURN_IF_ERROR(Pop(&args));
  ALEXNET_RETURN_IF_ERROR(Pop(&callable));
  if (callable->kind != Kind::kGlobal) return Fail("REDUCE calls " + A(callable->kind));
  if (args->kind != Kind::kTuple) return Fail("REDUCE with arguments that are not a tuple");
  const std::string& f = callable->text;
  const std::vector<Value*>& a = args->items;
  if (f == kOrderedDict) {
    if (!a.empty()) return Fail("collections.OrderedDict called with arguments (torch.save writes OrderedDict())");
    Value* dict = New(Kind::kDict);
    dict->flag = true;
    stack_.push_back(dict);
    return Status::Ok();
  }
  if (f == kRebuildTensorV2 || f == kRebuildTensor) {
    // v2: (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]);
    // v1, PyTorch 0.3: (storage, storage_offset, size, stride)
    const bool v1 = f == kRebuildTensor;
    if (v1 ? a.size() != 4 : a.size() != 6 && a.size() != 7) {
      return Fail(f + " with " + std::to_string(a.size()) + " arguments (" + (v1 ? "4" : "6 or 7") + " expected)");
    }
    Value* t = New(Kind::kTensor);
    if (a[0]->kind != Kind::kStorage) return Fail("_rebuild_tensor_v2 of " + A(a[0]->kind) + ", not a storage");
    t->tensor.storage = a[0]->storage;
    if (a[1]->kind != Kind::kInt || a[1]->integer < 0) return Fail("_rebuild_tensor_v2 with a storage offset that is not an int >= 0");
    t->tensor.storage_offset = a[1]->integer;
    if (!NonNegativeInts(a[2], &t->tensor.shape)) return Fail("_rebuild_tensor_v2 with a size that is not a tuple of ints >= 0");
    if (!NonNegativeInts(a[3], &t->tensor.stride)) return Fail("_rebuild_tensor_v2 with a stride that is not a tuple of ints >= 0");
    if (t->tensor.shape.size() != t->tensor.stride.size()) return Fail("_rebuild_tensor_v2 with a size and a stride of different lengths");
    if (v1) {
      stack_.push_back(t);
      return Status::Ok();
    }
    if (a[4]->kind != Kind::kBool) return Fail("_rebuild_tensor_v2 with requires_grad that is not a bool");
    if (a[5]->kind != Kind::kDict) return Fail("_rebuild_tensor_v2 with backward hooks that are not an OrderedDict");
    if (a.size() == 7 && a[6]->kind != Kind::kNone && a[6]->kind != Kind::kDict) {
      return Fail("_rebuild_tensor_v2 with metadata that is not a dict");
    }
    stack_.push_back(t);
    return Status::Ok();
  }
  if (f == kRebuildParameter) {  // (data, requires_grad, backward_hooks): a Parameter is its tensor
    if (a.size() != 3 || a[0]->kind != Kind::kTensor) return Fail("_rebuild_parameter not of (tensor, requires_grad, hooks)");
    stack_.push_back(a[0]);
    return Status::Ok();
  }
  return Fail(f + " is named in a persistent id only; a state_dict's pickle never calls it");
}

// BUILD: torch attaches `_metadata` (each module's version) to the state_dict's OrderedDict as
// an attribute; its state is a dict of attributes, or (None or dict, slot dict). Only checked.
Status Unpickler::Build() {
  Value *state = nullptr, *obj = nullptr;
  ALEXNET_RETURN_IF_ERROR(Pop(&state));
  ALEXNET_RETURN_IF_ERROR(Top(&obj));
  if (obj->kind != Kind::kDict || !obj->flag) {
    return Fail("BUILD (setting attributes) on " + A(obj->kind) +
                ", which a state_dict never needs (only its OrderedDict's _metadata)");
  }
  auto attributes = [](const Value* d) {
    if (d->kind == Kind::kNone) return true;
    if (d->kind != Kind::kDict) return false;
    for (const auto& [k, v] : d->entries) {
      if (k->kind != Kind::kString) return false;
    }
    return true;
  };
  const bool ok = state->kind == Kind::kTuple
                      ? state->items.size() == 2 && attributes(state->items[0]) && attributes(state->items[1])
                      : state->kind == Kind::kDict && attributes(state);
  if (!ok) return Fail("BUILD of an OrderedDict with a state that is not a dict of attributes");
  return Status::Ok();
}

// BINPERSID: the storages, by reference to data outside the pickle.
Status Unpickler::PersistentLoad() {
  Value* pid = nullptr;
  ALEXNET_RETURN_IF_ERROR(Pop(&pid));
  const std::size_t want = legacy_ ? 6 : 5;
  const std::vector<Value*>& p = pid->items;
  if (pid->kind != Kind::kTuple || p.size() != want || p[0]->kind != Kind::kString || p[0]->text != "storage") {
    return Fail(std::string("a persistent id that is not ('storage', type, key, location, numel") +
                (legacy_ ? ", view_metadata)" : ")"));
  }
  if (p[1]->kind != Kind::kGlobal || !IsStorageClass(p[1]->text)) return Fail("a persistent id whose type is not a torch storage class");
  if (p[2]->kind != Kind::kString) return Fail("a persistent id whose key is not a string");
  if (p[3]->kind != Kind::kString) return Fail("a persistent id whose location is not a string");
  if (p[4]->kind != Kind::kInt || p[4]->integer < 0 || p[4]->integer > (int64_t(1) << 50)) {
    return Fail("a persistent id whose element count is not an int between 0 and 2^50");
  }
  if (legacy_ && p[5]->kind != Kind::kNone) return Fail("a storage view (view_metadata), which PyTorch has not written since 0.4");
  Value* s = New(Kind::kStorage);
  s->storage.type = p[1]->text.substr(6);  // without "torch."
  s->storage.key = p[2]->text;
  s->storage.location = p[3]->text;
  s->storage.numel = p[4]->integer;
  stack_.push_back(s);
  return Status::Ok();
}

// Element count and last element of a view, checked against its storage.
Status CheckGeometry(const TensorRef& t, const std::string& origin) {
  const std::string who = "tensor '" + t.name + "'";
  int64_t numel = 1, last = t.storage_offset;
  bool empty = false;
  for (std::size_t d = 0; d < t.shape.size(); ++d) {
    if (t.shape[d] == 0) empty = true;
    if (__builtin_mul_overflow(numel, t.shape[d], &numel)) return Status::BadInput(origin, who + ": its size overflows");
  }
  if (empty) return Status::Ok();
  for (std::size_t d = 0; d < t.shape.size(); ++d) {
    int64_t reach = 0;
    if (__builtin_mul_overflow(t.shape[d] - 1, t.stride[d], &reach) || __builtin_add_overflow(last, reach, &last)) {
      return Status::BadInput(origin, who + ": its strides overflow");
    }
  }
  if (last >= t.storage.numel) {
    return Status::BadInput(origin, who + " reaches element " + std::to_string(last) + " of storage '" + t.storage.key +
                                         "', which has " + std::to_string(t.storage.numel));
  }
  if (numel > t.storage.numel) {
    return Status::BadInput(origin, who + " has " + std::to_string(numel) + " elements, more than its storage's " +
                                         std::to_string(t.storage.numel) + " (a broadcast view: not supported)");
  }
  return Status::Ok();
}

// The root of a state_dict pickle as tensors.
Result<std::vector<TensorRef>> StateDictTensors(const Value* root, const std::string& origin) {
  if (root->kind != Kind::kDict) {
    return Status::BadInput(origin, "the pickle holds " + A(root->kind) +
                                        ", not a state_dict (an OrderedDict of names to tensors)");
  }
  std::vector<TensorRef> tensors;
  std::set<std::string> names;
  for (const auto& [key, value] : root->entries) {
    if (key->kind != Kind::kString) return Status::BadInput(origin, "a state_dict key that is " + A(key->kind));
    if (value->kind != Kind::kTensor) {
      return Status::BadInput(origin, "'" + key->text + "' holds " + A(value->kind) +
                                          ", not a tensor: not a state_dict (a checkpoint holding one? save model.state_dict())");
    }
    if (!names.insert(key->text).second) return Status::BadInput(origin, "tensor '" + key->text + "' appears twice");
    TensorRef t = value->tensor;
    t.name = key->text;
    ALEXNET_RETURN_IF_ERROR(CheckGeometry(t, origin));
    tensors.push_back(std::move(t));
  }
  return tensors;
}

}  // namespace

bool IsFloat32Storage(const std::string& type) { return type == "FloatStorage"; }

Result<std::vector<TensorRef>> ParseStateDictPickle(std::string_view bytes, const std::string& origin, std::size_t begin,
                                                    std::size_t* end, bool* ran_out) {
  Unpickler u(bytes, begin, origin, /*legacy=*/false);
  auto root = u.Run();
  if (ran_out) *ran_out = u.ran_out();
  if (!root.ok()) return root.status();
  if (end) *end = u.pos();
  return StateDictTensors(*root, origin);
}

Result<LegacyPickles> ParseLegacyPickles(std::string_view bytes, const std::string& origin, bool* ran_out) {
  if (ran_out) *ran_out = false;
  LegacyPickles out;
  std::size_t pos = 0;
  // One plain pickle (no persistent ids), checked by `check`, which returns an empty string when
  // the value is right or else what is wrong.
  auto next = [&](const char* what, auto check) -> Status {
    Unpickler u(bytes, pos, origin, /*legacy=*/true);
    auto v = u.Run();
    if (ran_out) *ran_out = u.ran_out();
    if (!v.ok()) return v.status().With(std::string("the legacy format's ") + what);
    const std::string wrong = check(*v);
    if (!wrong.empty()) return Status::BadInput(origin, std::string("the legacy format's ") + what + ": " + wrong);
    pos = u.pos();
    return Status::Ok();
  };
  ALEXNET_RETURN_IF_ERROR(next("magic number", [](const Value* v) -> std::string {
    // 0x1950a86a20f9469cfc6c, as LONG1's 10 little-endian bytes
    static const std::string magic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
    return v->kind == Kind::kBigInt && v->text == magic ? "" : "not torch.save's magic number: not a PyTorch file";
  }));
  ALEXNET_RETURN_IF_ERROR(next("protocol version", [](const Value* v) -> std::string {
    if (v->kind != Kind::kInt) return "not an int";
    return v->integer == 1001 ? "" : "version " + std::to_string(v->integer) + " (only 1001 is known)";
  }));
  ALEXNET_RETURN_IF_ERROR(next("system info", [](const Value* v) -> std::string {
    if (v->kind != Kind::kDict) return "not a dict";
    for (const auto& [k, val] : v->entries) {
      if (k->kind == Kind::kString && k->text == "little_endian") {
        if (val->kind != Kind::kBool) return "little_endian is not a bool";
        return val->flag ? "" : "saved on a big-endian machine: not supported";
      }
    }
    return "no little_endian entry";
  }));
  {
    Unpickler u(bytes, pos, origin, /*legacy=*/true);
    auto root = u.Run();
    if (ran_out) *ran_out = u.ran_out();
    if (!root.ok()) return root.status();
    ALEXNET_ASSIGN_OR_RETURN(out.tensors, StateDictTensors(*root, origin));
    pos = u.pos();
  }
  ALEXNET_RETURN_IF_ERROR(next("storage keys", [&out](const Value* v) -> std::string {
    if (v->kind != Kind::kList) return "not a list";
    for (const Value* k : v->items) {
      if (k->kind != Kind::kString) return "a key that is not a string";
      out.storage_keys.push_back(k->text);
    }
    return "";
  }));
  out.data_begin = pos;
  return out;
}

}  // namespace alexnet::torch
