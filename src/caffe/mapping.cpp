#include "caffe/mapping.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

namespace alexnet::caffe {

int64_t Array::Count() const {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? " x " : "") + std::to_string(shape[i]);
  return s.empty() ? "(scalar)" : s;
}

Array UngroupConvolution(const Array& oihw, int groups) {
  const int64_t O = oihw.shape[0], Ig = oihw.shape[1], kh = oihw.shape[2], kw = oihw.shape[3];
  const int64_t I = Ig * groups, per_group = O / groups, k = kh * kw;
  Array out{{O, I, kh, kw}, std::vector<float>(static_cast<std::size_t>(O * I * k), 0.0f)};
  for (int64_t o = 0; o < O; ++o) {
    const int64_t first_input = (o / per_group) * Ig;  // this output's group's first channel
    for (int64_t i = 0; i < Ig; ++i) {
      const float* from = &oihw.values[static_cast<std::size_t>((o * Ig + i) * k)];
      std::copy(from, from + k, &out.values[static_cast<std::size_t>((o * I + first_input + i) * k)]);
    }
  }
  return out;
}

Array ReverseInputChannels(const Array& oihw) {
  const int64_t O = oihw.shape[0], I = oihw.shape[1], k = oihw.shape[2] * oihw.shape[3];
  Array out{oihw.shape, std::vector<float>(oihw.values.size())};
  for (int64_t o = 0; o < O; ++o) {
    for (int64_t i = 0; i < I; ++i) {
      const float* from = &oihw.values[static_cast<std::size_t>((o * I + (I - 1 - i)) * k)];
      std::copy(from, from + k, &out.values[static_cast<std::size_t>((o * I + i) * k)]);
    }
  }
  return out;
}

Array OihwToHwio(const Array& oihw) {
  const int64_t O = oihw.shape[0], I = oihw.shape[1], H = oihw.shape[2], W = oihw.shape[3];
  Array out{{H, W, I, O}, std::vector<float>(oihw.values.size())};
  for (int64_t o = 0; o < O; ++o) {
    for (int64_t i = 0; i < I; ++i) {
      for (int64_t y = 0; y < H; ++y) {
        for (int64_t x = 0; x < W; ++x) {
          out.values[static_cast<std::size_t>(((y * W + x) * I + i) * O + o)] =
              oihw.values[static_cast<std::size_t>(((o * I + i) * H + y) * W + x)];
        }
      }
    }
  }
  return out;
}

Array TransposeFullyConnected(const Array& out_in) {
  const int64_t out_n = out_in.shape[0], in_n = out_in.shape[1];
  Array t{{in_n, out_n}, std::vector<float>(out_in.values.size())};
  for (int64_t o = 0; o < out_n; ++o) {
    const float* row = &out_in.values[static_cast<std::size_t>(o * in_n)];
    for (int64_t i = 0; i < in_n; ++i) t.values[static_cast<std::size_t>(i * out_n + o)] = row[i];
  }
  return t;
}

Array FullyConnectedFromChw(const Array& out_in, int channels, int height, int width) {
  const int64_t out_n = out_in.shape[0], C = channels, HW = int64_t(height) * width;
  Array t{{HW * C, out_n}, std::vector<float>(out_in.values.size())};
  for (int64_t o = 0; o < out_n; ++o) {
    const float* row = &out_in.values[static_cast<std::size_t>(o * C * HW)];
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t p = 0; p < HW; ++p) {  // p = y * W + x
        t.values[static_cast<std::size_t>((p * C + c) * out_n + o)] = row[c * HW + p];
      }
    }
  }
  return t;
}

Result<model::LrnParams> LrnFromCaffe(int local_size, float alpha, float beta, float k) {
  if (local_size < 1 || local_size % 2 == 0) {
    return Status::BadInput("", "LRN local_size " + std::to_string(local_size) + " is not a positive odd number");
  }
  if (!std::isfinite(alpha) || !std::isfinite(beta) || !std::isfinite(k) || k <= 0) {
    return Status::BadInput("", "LRN constants must be finite with k > 0");
  }
  model::LrnParams p;
  p.depth_radius = (local_size - 1) / 2;
  p.alpha = alpha / static_cast<float>(local_size);
  p.beta = beta;
  p.bias = k;
  return p;
}

namespace {

bool IsWordNetId(const std::string& word) {
  return word.size() == 9 && word[0] == 'n' &&
         std::all_of(word.begin() + 1, word.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

Result<std::vector<std::string>> ParseLabels(const std::string& text, const std::string& origin) {
  std::vector<std::string> names;
  std::vector<int> empty_lines;  // empty lines seen since the last name
  std::istringstream in(text);
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    std::size_t start = 0;
    while (start < line.size() && std::isspace(static_cast<unsigned char>(line[start]))) ++start;
    line.erase(0, start);
    const std::size_t space = line.find(' ');
    if (space != std::string::npos && IsWordNetId(line.substr(0, space))) {
      line.erase(0, line.find_first_not_of(' ', space));
    }
    if (line.empty()) {
      empty_lines.push_back(line_number);
      continue;
    }
    if (!empty_lines.empty() && !names.empty()) {
      return Status::BadInput(origin, "line " + std::to_string(empty_lines.front()) +
                                          " is empty (one class name a line, in the order of the network's outputs)");
    }
    empty_lines.clear();
    if (line.find('\0') != std::string::npos) {
      return Status::BadInput(origin, "line " + std::to_string(line_number) + " holds a NUL byte");
    }
    names.push_back(line);
  }
  if (names.empty()) return Status::BadInput(origin, "no class names");
  return names;
}

std::vector<float> MeanImageFromBgrChw(const std::vector<float>& bgr_chw, int height, int width) {
  const std::size_t plane = static_cast<std::size_t>(height) * width;
  std::vector<float> hwc(plane * 3);
  for (std::size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < 3; ++c) hwc[p * 3 + static_cast<std::size_t>(c)] = bgr_chw[static_cast<std::size_t>(2 - c) * plane + p];
  }
  return hwc;
}

}  // namespace alexnet::caffe
