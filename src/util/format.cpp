#include "util/format.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace alexnet {

std::string FormatDuration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  }
  return buf;
}

std::string FormatFixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

std::string FormatCount(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string FormatKiB(std::int64_t bytes) {
  const double kib = static_cast<double>(bytes) / 1024.0;
  if (std::fabs(kib) >= 99.95) return FormatCount(std::llround(kib));
  if (std::fabs(kib) >= 9.995) return FormatFixed(kib, 1);
  if (kib == 0) return "0";
  if (std::fabs(kib) >= 0.9995) return FormatFixed(kib, 2);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", kib);
  return buf;
}

std::string FileNameForm(const std::string& name) {
  std::string out = name;
  for (char& ch : out) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '-';
  }
  return out;
}

}  // namespace alexnet
