// The PyTorch readers (src/torch) against files Debian's PyTorch writes (make_state_dicts.py,
// run once with /usr/bin/python3): every tensor's every value compared bit for bit with what
// PyTorch wrote next to it, in the zip and legacy formats and .safetensors, views of shared
// storages included; torchvision's AlexNet at full size with the memory it costs; the files to
// refuse, each with the file and the reason named; the unpickler and the safetensors header on
// hand-made bytes (truncation at every byte, bad memo, underflow, huge lengths, bad geometry).
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "torch/pickle.h"
#include "torch/safetensors.h"
#include "torch/state_dict.h"

#if defined(__SANITIZE_ADDRESS__)
#define ALEXNET_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALEXNET_TEST_ASAN 1
#endif
#endif

namespace alexnet::torch {
namespace {

namespace fs = std::filesystem;

// The files of make_state_dicts.py, written once for the whole suite.
class TorchFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::system("/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null") != 0) {
      setup_error_ = "/usr/bin/python3 cannot import torch and torchvision: install Debian's python3-torch and "
                     "python3-torchvision (bash scripts/setup.sh)";
      return;
    }
    std::string tmpl = (fs::temp_directory_path() / "alexnet-torch-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      setup_error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    const std::string cmd = "/usr/bin/python3 " ALEXNET_TORCH_SCRIPT " " + dir_;
    if (std::system(cmd.c_str()) != 0) setup_error_ = "failed: " + cmd;
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
  }
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static std::string Path(const std::string& name) { return dir_ + "/" + name; }

  // Every tensor of `got` equals the set's <set>.json and <set>.f32: names in order, shapes,
  // values bit for bit (NaN and -0 included). Reads the expected values tensor by tensor, in
  // chunks, so a 244 MB set costs little memory on top of `got`.
  static void ExpectSet(const std::vector<NamedTensor>& got, const std::string& set) {
    std::ifstream manifest_file(Path(set + ".json"));
    const auto manifest = nlohmann::json::parse(manifest_file);
    ASSERT_EQ(got.size(), manifest.size());
    std::ifstream values(Path(set + ".f32"), std::ios::binary);
    std::vector<float> chunk;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const NamedTensor& t = got[i];
      ASSERT_EQ(t.name, manifest[i]["name"].get<std::string>()) << "tensor " << i;
      ASSERT_EQ(t.shape, manifest[i]["shape"].get<std::vector<int64_t>>()) << t.name;
      ASSERT_EQ(static_cast<int64_t>(t.values.size()), ElementCount(t.shape)) << t.name;
      for (std::size_t done = 0; done < t.values.size();) {
        const std::size_t n = std::min<std::size_t>(t.values.size() - done, 1 << 20);
        chunk.resize(n);
        values.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(n * 4));
        ASSERT_TRUE(values) << "expected values end early at " << t.name;
        if (std::memcmp(chunk.data(), t.values.data() + done, n * 4) != 0) {
          for (std::size_t k = 0; k < n; ++k) {
            ASSERT_EQ(std::memcmp(&chunk[k], &t.values[done + k], 4), 0)
                << t.name << "[" << done + k << "]: expected " << chunk[k] << ", got " << t.values[done + k];
          }
        }
        done += n;
      }
    }
    values.peek();
    EXPECT_TRUE(values.eof()) << "expected values left over";
  }

  // Refused as bad input, the message naming the file and containing `what`.
  static void ExpectRefused(const std::string& name, const std::string& what) {
    const auto r = ReadStateDict(Path(name));
    ASSERT_FALSE(r.ok()) << name << " was read";
    EXPECT_EQ(r.status().code(), StatusCode::kBadInput) << r.status().message();
    EXPECT_EQ(r.status().path(), Path(name)) << r.status().message();  // the file, whatever part of it failed
    EXPECT_NE(r.status().message().find(what), std::string::npos)
        << "expected '" << what << "' in: " << r.status().message();
  }

  static std::string dir_;
  static std::string setup_error_;
};
std::string TorchFiles::dir_;
std::string TorchFiles::setup_error_;

long PeakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

TEST_F(TorchFiles, ZipFormatEqualsPyTorchBitForBit) {
  const auto r = ReadStateDict(Path("small.zip.pt"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectSet(*r, "small");
}

TEST_F(TorchFiles, LegacyFormatEqualsPyTorchBitForBit) {
  const auto r = ReadStateDict(Path("small.legacy.pt"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectSet(*r, "small");
}

TEST_F(TorchFiles, LegacyFormatWithPicklesOverOneMegabyte) {  // read from a prefix that grows
  const std::string cmd = "/usr/bin/python3 " ALEXNET_TORCH_SCRIPT " " + Path("") + " --many";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "failed: " << cmd;
  const auto r = ReadStateDict(Path("many.legacy.pt"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectSet(*r, "many");
}

TEST_F(TorchFiles, SafetensorsEqualsPyTorchBitForBit) {
  const auto r = ReadStateDict(Path("small.safetensors"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectSet(*r, "small");
}

TEST_F(TorchFiles, ViewsOfOneStorageAreMaterialised) {  // spelled out, beside the bitwise check
  const auto r = ReadStateDict(Path("small.zip.pt"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto find = [&](const std::string& name) -> const NamedTensor& {
    for (const auto& t : *r) {
      if (t.name == name) return t;
    }
    ADD_FAILURE() << name << " missing";
    return r->front();
  };
  // base[i][j] = (6i + j) * 0.5 - 3
  auto base = [](int i, int j) { return float(6 * i + j) * 0.5f - 3.0f; };
  const auto& transposed = find("views.transposed");
  EXPECT_EQ(transposed.shape, (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(transposed.values[1 * 4 + 3], base(3, 1));
  const auto& column = find("views.column");
  EXPECT_EQ(column.values, (std::vector<float>{base(0, 2), base(1, 2), base(2, 2), base(3, 2)}));
  const auto& block = find("views.block");
  EXPECT_EQ(block.values, (std::vector<float>{base(1, 2), base(1, 3), base(1, 4), base(2, 2), base(2, 3), base(2, 4)}));
  EXPECT_EQ(find("views.scalar").shape, std::vector<int64_t>{});
  EXPECT_EQ(find("views.scalar").values, std::vector<float>{3.25f});
  EXPECT_TRUE(find("views.empty").values.empty());
}

// torchvision's AlexNet, 61,100,840 floats (244 MB), in both torch.save formats: every value,
// and the peak memory of reading one file (each storage read once, into its tensor).
TEST_F(TorchFiles, TorchvisionAlexNetFullSizeBothFormats) {
  const std::string cmd = "/usr/bin/python3 " ALEXNET_TORCH_SCRIPT " " + Path("") + " --alexnet";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "failed: " << cmd;
  [[maybe_unused]] const long before = PeakRssMb();
  for (const char* file : {"alexnet.zip.pt", "alexnet.legacy.pt"}) {
    SCOPED_TRACE(file);
    auto r = ReadStateDict(Path(file));
    ASSERT_TRUE(r.ok()) << r.status().message();
    int64_t floats = 0;
    for (const auto& t : *r) floats += ElementCount(t.shape);
    EXPECT_EQ(floats, 61100840);
    EXPECT_EQ(r->front().name, "features.0.weight");
    EXPECT_EQ(r->front().shape, (std::vector<int64_t>{64, 3, 11, 11}));
#ifndef ALEXNET_TEST_ASAN  // ASan's quarantine keeps freed memory: the figure means nothing there
    const long grown = PeakRssMb() - before;
    std::printf("%s: peak memory grew by %ld MB for 233 MB of tensors\n", file, grown);
    EXPECT_LT(grown, 300) << "reading held more than the tensors (a second copy of a storage?)";
#endif
    ExpectSet(*r, "alexnet");
  }
  for (const char* file : {"alexnet.zip.pt", "alexnet.legacy.pt", "alexnet.f32"}) fs::remove(Path(file));
}

TEST_F(TorchFiles, RefusesDamagedAndHostileFiles) {
  ExpectRefused("truncated.zip.pt", "not a readable zip");
  ExpectRefused("truncated_data.legacy.pt", "truncated");
  ExpectRefused("truncated_pickle.legacy.pt", "truncated");
  ExpectRefused("truncated.safetensors", "truncated");
  ExpectRefused("os_system.pt", "the pickle calls os.system, which a state_dict never needs");
  ExpectRefused("reduce_system.pt", "system, which a state_dict never needs");  // pickle writes posix.system
  EXPECT_FALSE(fs::exists(Path("executed"))) << "a command in a pickle ran";
  ExpectRefused("whole_model.pt", "the pickle calls torch.nn.modules.linear.Linear");
  ExpectRefused("no_data_pkl.pt", "data.pkl");
  ExpectRefused("long_storage.pt", "tensor 'bn.num_batches_tracked' is stored as torch.LongStorage");
  ExpectRefused("list.pt", "the pickle holds a list, not a state_dict");
  ExpectRefused("checkpoint.pt", "'state_dict' holds a dict, not a tensor");
  ExpectRefused("big_endian.pt", "byteorder says 'big'");
  ExpectRefused("bad_offsets.safetensors", "safetensors tensor 'b': data_offsets [24, 4000] outside");
  ExpectRefused("f16.safetensors", "safetensors tensor 'b' is F16: only F32");
  ExpectRefused("overlap.safetensors", "overlap");
  ExpectRefused("text.txt", "not a PyTorch state_dict");
  const auto missing = ReadStateDict(Path("missing.pt"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

// ---- the unpickler on hand-made bytes ---------------------------------------------------------

// A pickle written opcode by opcode.
struct Pickle {
  std::string b = "\x80\x02";  // PROTO 2
  Pickle& Op(const std::string& s) { b += s; return *this; }
  Pickle& Str(const std::string& s) {
    b += 'X';
    for (int i = 0; i < 4; ++i) b += char((s.size() >> (8 * i)) & 0xff);
    b += s;
    return *this;
  }
  Pickle& Int(int v) { b += 'K'; b += char(v); return *this; }  // BININT1, 0..255
  Pickle& Global(const std::string& module, const std::string& name) { b += "c" + module + "\n" + name + "\n"; return *this; }
  Pickle& OrderedDict() { return Global("collections", "OrderedDict").Op(")R"); }
  // (storage numel, offset, shape, stride): _rebuild_tensor_v2(storage, offset, shape, stride, False, OrderedDict())
  Pickle& Tensor(int numel, int offset, std::vector<int> shape, std::vector<int> stride) {
    Global("torch._utils", "_rebuild_tensor_v2").Op("(");
    Op("(").Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(numel).Op("tQ");
    Int(offset).Op("(");
    for (int s : shape) Int(s);
    Op("t(");
    for (int s : stride) Int(s);
    Op("t\x89");
    return OrderedDict().Op("tR");
  }
};

std::string OneTensor(int numel, int offset, std::vector<int> shape, std::vector<int> stride) {
  Pickle p;
  p.OrderedDict().Str("w").Tensor(numel, offset, std::move(shape), std::move(stride)).Op("s.");
  return p.b;
}

TEST(Unpickler, ReadsATensorItBuiltByHand) {
  const auto r = ParseStateDictPickle(OneTensor(6, 0, {2, 3}, {3, 1}), "p");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, "w");
  EXPECT_EQ((*r)[0].storage.type, "FloatStorage");
  EXPECT_EQ((*r)[0].storage.numel, 6);
  EXPECT_EQ((*r)[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ((*r)[0].stride, (std::vector<int64_t>{3, 1}));
}

TEST(Unpickler, ReadsPyTorch03sRebuildTensor) {  // _rebuild_tensor(storage, offset, size, stride)
  Pickle p;
  p.OrderedDict().Str("w").Global("torch._utils", "_rebuild_tensor").Op("(");
  p.Op("(").Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(6).Op("tQ");
  p.Int(2).Int(4).Op("\x85").Int(1).Op("\x85tRs.");
  const auto r = ParseStateDictPickle(p.b, "p");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[0].storage_offset, 2);
  EXPECT_EQ((*r)[0].shape, std::vector<int64_t>{4});
}

TEST(Unpickler, EveryTruncationIsAnErrorThatRanOut) {
  const std::string full = OneTensor(6, 0, {2, 3}, {3, 1});
  for (std::size_t n = 0; n < full.size(); ++n) {
    bool ran_out = false;
    const auto r = ParseStateDictPickle(std::string_view(full).substr(0, n), "p", 0, nullptr, &ran_out);
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_TRUE(ran_out) << n << ": " << r.status().message();
  }
}

void ExpectPickleError(const std::string& bytes, const std::string& what) {
  const auto r = ParseStateDictPickle(bytes, "x.pkl");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(what), std::string::npos) << "expected '" << what << "' in: " << r.status().message();
  EXPECT_NE(r.status().message().find("x.pkl"), std::string::npos) << r.status().message();
}

TEST(Unpickler, RefusesWhatAStateDictNeverHas) {
  ExpectPickleError(Pickle().Global("builtins", "eval").b, "the pickle calls builtins.eval");
  ExpectPickleError(Pickle().Str("os").Str("system").Op("\x93").b, "the pickle calls os.system");  // STACK_GLOBAL
  ExpectPickleError(Pickle().Op("\xff").b, "unknown opcode 0xff");
  ExpectPickleError(Pickle().OrderedDict().Op(")\x81").b, "opcode NEWOBJ (0x81)");
  ExpectPickleError(Pickle().Op("h\x07.").b, "memo index 7 was never stored");
  ExpectPickleError(Pickle().Op(".").b, "stack underflow");
  ExpectPickleError(Pickle().Op("(s").b, "stack underflow");  // SETITEM cannot reach below a MARK
  ExpectPickleError(Pickle().Op("e").b, "no MARK");
  ExpectPickleError(Pickle().Op("X\xff\xff\xff\xff").b, "truncated");  // a 4 GB string in a short file
  ExpectPickleError(Pickle().Op("\x8d\xff\xff\xff\xff\xff\xff\xff\x7f").b, "truncated");
  ExpectPickleError(Pickle().Op("]K\x01").Op(".").b, "the pickle holds an int, not a state_dict");
  ExpectPickleError(Pickle().Global("torch", "FloatStorage").Op(")R.").b, "never calls it");
  ExpectPickleError(OneTensor(6, 1, {2, 3}, {3, 1}), "tensor 'w' reaches element 6 of storage '0', which has 6");
  ExpectPickleError(OneTensor(4, 0, {2, 3}, {3, 1}), "reaches element");
  ExpectPickleError(OneTensor(1, 0, {200, 200}, {0, 0}), "broadcast view");
  ExpectPickleError(OneTensor(6, 0, {2, 3}, {3}), "different lengths");
  // BUILD on anything but the OrderedDict (torch sets its _metadata that way)
  ExpectPickleError(Pickle().Op("]}b").b, "BUILD (setting attributes) on a list");
  // Two tensors of one name
  Pickle twice;
  twice.OrderedDict().Op("(").Str("w").Tensor(6, 0, {6}, {1}).Str("w").Tensor(6, 0, {6}, {1}).Op("u.");
  ExpectPickleError(twice.b, "tensor 'w' appears twice");
}

TEST(Unpickler, ListsThatHoldThemselvesEndWithoutLeaks) {  // memo cycles: the arena owns every value
  ExpectPickleError(Pickle().Op(std::string("]q\x00h\x00" "a.", 7)).b, "holds a list");
}

// ---- the safetensors header on hand-made bytes ------------------------------------------------

std::string Safetensors(const std::string& header, std::size_t data_bytes) {
  std::string b(8, '\0');
  for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = char((header.size() >> (8 * i)) & 0xff);
  return b + header + std::string(data_bytes, '\0');
}

void ExpectSafetensorsError(const std::string& bytes, const std::string& what) {
  const auto r = ParseSafetensors(bytes, "x.safetensors");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(what), std::string::npos) << "expected '" << what << "' in: " << r.status().message();
}

TEST(Safetensors, ReadsAHeaderInDataOrder) {
  const auto r = ParseSafetensors(
      Safetensors(R"({"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}})", 12),
      "x");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "a");
  EXPECT_EQ((*r)[1].shape, std::vector<int64_t>{});
  EXPECT_EQ((*r)[1].values.size(), 1u);
}

TEST(Safetensors, RefusesBadHeaders) {
  ExpectSafetensorsError("\x01\x02", "truncated");
  ExpectSafetensorsError(std::string("\xff\xff\xff\xff\xff\xff\xff\xff{}", 10), "at most 100 MB");
  ExpectSafetensorsError(std::string("\x40\0\0\0\0\0\0\0{}", 10), "truncated");
  ExpectSafetensorsError(Safetensors("{nope", 0), "not a JSON object");
  ExpectSafetensorsError(Safetensors("[]", 0), "not a JSON object");
  ExpectSafetensorsError(Safetensors(R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8), "is I64: only F32");
  ExpectSafetensorsError(Safetensors(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8), "shape entry");
  ExpectSafetensorsError(Safetensors(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", 8), "shape entry");
  ExpectSafetensorsError(Safetensors(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", 8), "overflows");
  ExpectSafetensorsError(Safetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "its shape needs 12");
  ExpectSafetensorsError(Safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "outside");
  ExpectSafetensorsError(Safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8), "data_offsets [begin, end]");
  ExpectSafetensorsError(Safetensors(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8), "no dtype");
  ExpectSafetensorsError(Safetensors(R"({"__metadata__":{"k":1}})", 0), "__metadata__ 'k'");
}

}  // namespace
}  // namespace alexnet::torch
