// The enum tables (util/enum_names.h): names both ways, the flag's choices, and config.json's
// reading of a name the table lacks (the first entry, as nlohmann's own enum macro did).
#include "util/enum_names.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace alexnet {
namespace {

enum class Colour { kRed, kGreen, kBlue };
inline constexpr EnumNames<Colour, 3> kColourNames = {
    {{Colour::kRed, "red"}, {Colour::kGreen, "green"}, {Colour::kBlue, "blue"}}};
ALEXNET_JSON_ENUM(Colour, kColourNames)

TEST(EnumNames, NamesBothWays) {
  EXPECT_STREQ(NameIn(kColourNames, Colour::kGreen), "green");
  EXPECT_EQ(ValueIn(kColourNames, "blue"), Colour::kBlue);
  EXPECT_FALSE(ValueIn(kColourNames, "Blue").has_value());
  EXPECT_FALSE(ValueIn(kColourNames, "").has_value());
  EXPECT_STREQ(NameIn(kColourNames, static_cast<Colour>(7)), "?");
}

TEST(EnumNames, FlagChoicesInTableOrder) {
  EXPECT_EQ(Choices(kColourNames), "{red,green,blue}");
  const auto m = NameMap(kColourNames);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.at("red"), Colour::kRed);
  EXPECT_EQ(m.at("blue"), Colour::kBlue);
}

TEST(EnumNames, JsonRoundTripAndUnknownReadsAsFirst) {
  for (const auto& e : kColourNames) {
    const nlohmann::json j = e.value;
    EXPECT_EQ(j, e.name);
    EXPECT_EQ(j.get<Colour>(), e.value);
  }
  EXPECT_EQ(nlohmann::json("purple").get<Colour>(), Colour::kRed);
  EXPECT_EQ(nlohmann::json(2).get<Colour>(), Colour::kRed);
}

}  // namespace
}  // namespace alexnet
