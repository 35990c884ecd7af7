// How numbers read on the terminal and in reports: one place, so every command agrees.
#pragma once

#include <string>

namespace alexnet::train {

// "1h05m", "3m07s"; "?" for a negative or unknown duration.
std::string FormatDuration(double seconds);
// A fixed number of decimals: FormatFixed(0.247222, 3) == "0.247".
std::string FormatFixed(double value, int digits);

}  // namespace alexnet::train
