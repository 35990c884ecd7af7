// The idx reader on handmade files (gzip'd by the test with zlib, and plain), and its errors.
#include <gtest/gtest.h>

#include <cstring>

#include "data/idx.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using namespace testing;

std::vector<std::uint8_t> idx_bytes(std::uint8_t type, const std::vector<std::uint32_t>& dims,
                                    const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

TEST(Idx, ReadsGzippedUint8) {
  TempDir dir;
  std::vector<std::uint8_t> payload(2 * 3 * 4);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 10);
  write_bytes(dir.file("a.gz"), gzip(idx_bytes(0x08, {2, 3, 4}, payload)));
  auto a = ReadIdx(dir.file("a.gz"));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->type, IdxType::kUint8);
  EXPECT_EQ(a->dims, (std::vector<std::uint32_t>{2, 3, 4}));
  EXPECT_EQ(a->count(), 24u);
  EXPECT_EQ(a->data, payload);
}

TEST(Idx, ReadsPlainFilesAndConvertsBigEndian) {
  TempDir dir;
  write_bytes(dir.file("i32"), idx_bytes(0x0C, {2}, {0x00, 0x00, 0x01, 0x02, 0xFF, 0xFF, 0xFF, 0xFE}));
  auto a = ReadIdx(dir.file("i32"));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->values<std::int32_t>()[0], 258);
  EXPECT_EQ(a->values<std::int32_t>()[1], -2);
  // 1.5f = 0x3FC00000
  write_bytes(dir.file("f32.gz"), gzip(idx_bytes(0x0D, {1}, {0x3F, 0xC0, 0x00, 0x00})));
  auto f = ReadIdx(dir.file("f32.gz"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->values<float>()[0], 1.5f);
}

void expect_error(const std::string& path, const std::string& expected, const IdxOptions& o = {}) {
  auto a = ReadIdx(path, o);
  ASSERT_FALSE(a.ok()) << path;
  EXPECT_EQ(a.status().path(), path);
  EXPECT_NE(a.status().reason().find(expected), std::string::npos)
      << "expected '" << expected << "', got '" << a.status().reason() << "'";
}

TEST(Idx, BadFilesGiveClearErrors) {
  TempDir dir;
  expect_error(dir.file("missing.gz"), "cannot open");
  write_bytes(dir.file("magic.gz"), gzip({1, 2, 8, 1, 0, 0, 0, 0}));
  expect_error(dir.file("magic.gz"), "two zero bytes");
  write_bytes(dir.file("type.gz"), gzip(idx_bytes(0x07, {1}, {0})));
  expect_error(dir.file("type.gz"), "unknown value type 0x07");
  write_bytes(dir.file("short.gz"), gzip({0, 0}));
  expect_error(dir.file("short.gz"), "shorter than its 4-byte magic");
  write_bytes(dir.file("dims.gz"), gzip({0, 0, 8, 3, 0, 0, 0, 2}));
  expect_error(dir.file("dims.gz"), "3 dimensions declared");
  write_bytes(dir.file("trunc.gz"), gzip(idx_bytes(0x08, {10, 10}, std::vector<std::uint8_t>(60))));
  expect_error(dir.file("trunc.gz"), "declares 100 bytes of data, found 60");
  write_bytes(dir.file("extra.gz"), gzip(idx_bytes(0x08, {4}, std::vector<std::uint8_t>(5))));
  expect_error(dir.file("extra.gz"), "data after the 4 bytes");
  write_bytes(dir.file("huge.gz"), gzip(idx_bytes(0x08, {100000, 100000, 100000}, {})));
  expect_error(dir.file("huge.gz"), "more than");
  IdxOptions small;
  small.max_bytes = 10;
  write_bytes(dir.file("big.gz"), gzip(idx_bytes(0x08, {11}, std::vector<std::uint8_t>(11))));
  expect_error(dir.file("big.gz"), "more than 10 bytes", small);
  // A gzip stream cut in the middle.
  auto gz = gzip(idx_bytes(0x08, {1000}, std::vector<std::uint8_t>(1000, 7)));
  gz.resize(gz.size() / 2);
  write_bytes(dir.file("cut.gz"), gz);
  auto a = ReadIdx(dir.file("cut.gz"));
  EXPECT_FALSE(a.ok());
}

}  // namespace
}  // namespace alexnet::data
