// Command-line validators shared by the subcommands of `alexnet`.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace alexnet::cli {

// A number that may be 0 but not negative. CLI11's NonNegativeNumber reports a bad value as
// "not in range 0 to <DBL_MAX written out in 309 digits>"; this says the same in a few words.
inline const CLI::Validator kNonNegative(
    [](std::string& text) -> std::string {
      double value = 0;
      if (!CLI::detail::lexical_cast(text, value)) return "'" + text + "' is not a number";
      return value >= 0 ? std::string() : "must be 0 or more, got " + text;
    },
    "NUMBER>=0", "NonNegative");

// A number in [0, 1): a share of something that must leave some of it.
inline const CLI::Validator kFraction(
    [](std::string& text) -> std::string {
      double value = 0;
      if (!CLI::detail::lexical_cast(text, value)) return "'" + text + "' is not a number";
      return value >= 0 && value < 1 ? std::string() : "must be at least 0 and below 1, got " + text;
    },
    "[0,1)", "Fraction");

}  // namespace alexnet::cli
