// How numbers read on the terminal and in reports: one place, so every command agrees.
#pragma once

#include <cstdint>
#include <string>

namespace alexnet {

// "1h05m", "3m07s"; "?" for a negative or unknown duration.
std::string FormatDuration(double seconds);
// A fixed number of decimals: FormatFixed(0.247222, 3) == "0.247".
std::string FormatFixed(double value, int digits);
// Thousands separated by commas: FormatCount(62378344) == "62,378,344".
std::string FormatCount(std::int64_t n);
// Bytes in KiB (1024 bytes) to about 3 significant digits, thousands separated, no unit:
// FormatKiB(1161600) == "1,134", FormatKiB(36864) == "36.0", FormatKiB(4000) == "3.91",
// FormatKiB(40) == "0.0391". One unit for a whole column, so the sizes compare at a glance.
std::string FormatKiB(std::int64_t bytes);

// A name as it goes into a file name, as `alexnet extract` writes <index>_<class>.png: every
// character but ASCII letters and digits becomes '-'. FileNameForm("T-shirt/top") == "T-shirt-top".
std::string FileNameForm(const std::string& name);

}  // namespace alexnet
