#include "report/visualize.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "util/files.h"

namespace alexnet::report {

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.5;
constexpr int kLineHeight = 20;
const cv::Scalar kText(30, 30, 30);
const cv::Scalar kAxis(90, 90, 90);
const cv::Scalar kDeadChannel(60, 60, 60);

int TextWidth(const std::string& s) {
  int baseline = 0;
  return cv::getTextSize(s, kFont, kFontScale, 1, &baseline).width;
}

void Text(cv::Mat& img, const std::string& s, int x, int baseline_y, const cv::Scalar& colour = kText) {
  cv::putText(img, s, cv::Point(x, baseline_y), kFont, kFontScale, colour, 1, cv::LINE_AA);
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

cv::Mat Upscale(const cv::Mat& m, int scale) {
  if (scale == 1) return m;
  cv::Mat out;
  cv::resize(m, out, cv::Size(m.cols * scale, m.rows * scale), 0, 0, cv::INTER_NEAREST);
  return out;
}

}  // namespace

std::pair<int, int> GridShape(int n) {
  if (n <= 0) return {0, 0};
  int rows = 1;
  for (int d = 1; d * d <= n; ++d) {
    if (n % d == 0) rows = d;
  }
  int cols = n / rows;
  if (cols > 5 * rows / 2 + 1) {  // no divisor near sqrt(n) (e.g. a prime): a near-square grid
    cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
    rows = (n + cols - 1) / cols;
  }
  return {rows, cols};
}

int UpscaleFactor(int side, int cols, int target_width, int max_scale) {
  const int natural = std::max(1, side * cols);
  return std::clamp(target_width / natural, 1, std::max(1, max_scale));
}

cv::Mat AddCaption(const cv::Mat& body, const std::vector<std::string>& lines, int* band) {
  int text_w = 0;
  for (const std::string& l : lines) text_w = std::max(text_w, TextWidth(l));
  const int h_band = static_cast<int>(lines.size()) * kLineHeight + 10;
  const int width = std::max(body.cols, text_w + 16);
  cv::Mat out(h_band + body.rows, width, CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t i = 0; i < lines.size(); ++i) {
    Text(out, lines[i], 8, 5 + static_cast<int>(i + 1) * kLineHeight - 5);
  }
  if (!body.empty()) body.copyTo(out(cv::Rect(0, h_band, body.cols, body.rows)));
  if (band) *band = h_band;
  return out;
}

cv::Mat FeatureMapGrid(const float* hwc, int h, int w, int c, GridLayout* layout, int* constant_channels,
                       int target_width) {
  const auto [rows, cols] = GridShape(c);
  const int scale = UpscaleFactor(std::max(h, w), cols, target_width, 12);
  GridLayout g;
  g.rows = rows;
  g.cols = cols;
  g.cell_w = w * scale;
  g.cell_h = h * scale;
  g.sep = 2;
  g.x0 = g.sep;
  g.y0 = g.sep;
  cv::Mat grid(rows * (g.cell_h + g.sep) + g.sep, cols * (g.cell_w + g.sep) + g.sep, CV_8UC3, kSeparator);
  int constant = 0;
  cv::Mat grey(h, w, CV_8UC1), colour;
  for (int ch = 0; ch < c; ++ch) {
    float lo = hwc[ch], hi = hwc[ch];
    for (int i = 0; i < h * w; ++i) {
      const float v = hwc[static_cast<size_t>(i) * c + ch];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    const cv::Rect cell(g.x0 + (ch % cols) * (g.cell_w + g.sep), g.y0 + (ch / cols) * (g.cell_h + g.sep), g.cell_w,
                        g.cell_h);
    if (!(hi > lo)) {  // constant (typically a ReLU that is zero everywhere), or NaN
      ++constant;
      grid(cell).setTo(kDeadChannel);
      continue;
    }
    const float k = 255.0f / (hi - lo);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const float v = hwc[(static_cast<size_t>(y) * w + x) * c + ch];
        grey.at<uint8_t>(y, x) = cv::saturate_cast<uint8_t>((v - lo) * k);
      }
    }
    cv::applyColorMap(grey, colour, cv::COLORMAP_VIRIDIS);
    Upscale(colour, scale).copyTo(grid(cell));
  }
  // Cells beyond c (when the grid is not full) stay separator-coloured.
  if (layout) *layout = g;
  if (constant_channels) *constant_channels = constant;
  return grid;
}

cv::Mat InputCropImage(const float* hwc, int h, int w, const float mean_rgb[3], int min_side) {
  cv::Mat bgr(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float* p = hwc + (static_cast<size_t>(y) * w + x) * 3;
      cv::Vec3b& o = bgr.at<cv::Vec3b>(y, x);
      for (int ch = 0; ch < 3; ++ch) o[2 - ch] = cv::saturate_cast<uint8_t>(p[ch] + mean_rgb[ch]);
    }
  }
  const int scale = std::max(1, (min_side + std::max(h, w) - 1) / std::max(h, w));
  return Upscale(bgr, scale);
}

cv::Mat UnitBarChart(const std::vector<float>& values, int width, int height,
                     const std::vector<std::pair<int, cv::Scalar>>& unit_colours) {
  const int n = static_cast<int>(values.size());
  const int left = 64, right = 12, top = 10, bottom = 26;
  const int bar_w = n >= width ? 1 : std::max(1, width / std::max(n, 1));
  const int columns = n >= width ? width : n;
  const int plot_w = columns * bar_w;
  cv::Mat img(height, left + plot_w + right, CV_8UC3, cv::Scalar(255, 255, 255));
  if (n == 0) return img;
  float lo = 0, hi = 0;
  for (float v : values) {
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!(hi > lo)) hi = lo + 1;
  const int plot_h = height - top - bottom;
  auto y_of = [&](float v) { return top + static_cast<int>(std::lround((hi - v) / (hi - lo) * plot_h)); };
  const int y0 = y_of(0);
  for (int col = 0; col < columns; ++col) {
    // The units drawn in this column: one, or a bucket of n / width units shown by their maximum.
    const int a = static_cast<int>(static_cast<int64_t>(col) * n / columns);
    const int b = std::max(a + 1, static_cast<int>(static_cast<int64_t>(col + 1) * n / columns));
    float v = values[a];
    for (int i = a; i < b; ++i) v = std::max(v, values[i]);
    if (!std::isfinite(v)) continue;
    const int y = y_of(v);
    const int x = left + col * bar_w;
    cv::Scalar colour = kPlainBarColour;
    for (const auto& [unit, c] : unit_colours) {
      if (b - a == 1 && unit == a) colour = c;
    }
    cv::rectangle(img, cv::Rect(x, std::min(y, y0), bar_w - (bar_w > 3 ? 1 : 0), std::max(1, std::abs(y - y0))),
                  colour, cv::FILLED);
  }
  cv::line(img, cv::Point(left - 4, y0), cv::Point(left + plot_w, y0), kAxis, 1);
  cv::line(img, cv::Point(left - 1, top), cv::Point(left - 1, top + plot_h), kAxis, 1);
  Text(img, Number(hi), 4, top + 10);
  if (y0 > top + 14 && y0 < top + plot_h - 4) Text(img, "0", left - 16, y0 + 5);
  Text(img, Number(lo), 4, top + plot_h);
  Text(img, "unit 0", left, height - 8);
  const std::string last = "unit " + std::to_string(n - 1);
  Text(img, last, left + plot_w - TextWidth(last), height - 8);
  return img;
}

cv::Mat TopClassesChart(const std::vector<ClassBar>& bars, int width) {
  const int row_h = 24, label_w = 64, name_w = 220;
  const int bar_max = std::max(40, width - label_w - name_w - 16);
  int rows = 0, text_w = 0;
  for (const ClassBar& b : bars) {
    rows += b.gap_before ? 2 : 1;
    text_w = std::max(text_w, TextWidth(b.text));
  }
  // Wider than asked when a long name after a long bar would not fit.
  const int needed = label_w + bar_max + 8 + text_w + 8;
  cv::Mat img(rows * row_h + 8, std::max(width, needed), CV_8UC3, cv::Scalar(255, 255, 255));
  int y = 4;
  for (const ClassBar& b : bars) {
    if (b.gap_before) {
      Text(img, "...", 6, y + 16);
      y += row_h;
    }
    const float p = std::clamp(b.probability, 0.0f, 1.0f);
    char prob[16];
    std::snprintf(prob, sizeof prob, "%.3f", b.probability);
    Text(img, prob, 6, y + 16);
    const int len = std::max(1, static_cast<int>(std::lround(p * bar_max)));
    cv::rectangle(img, cv::Rect(label_w, y + 4, len, row_h - 8), b.colour, cv::FILLED);
    Text(img, b.text, label_w + len + 8, y + 16);
    y += row_h;
  }
  return img;
}

cv::Mat FilterGrid(const float* hwio, int k, int in_c, int n, int scale, int rows, GridLayout* layout) {
  GridLayout g;
  g.rows = std::max(1, std::min(rows, n));
  g.cols = (n + g.rows - 1) / g.rows;
  g.cell_w = g.cell_h = k * scale;
  g.sep = 2;
  g.x0 = g.y0 = g.sep;
  cv::Mat grid(g.rows * (g.cell_h + g.sep) + g.sep, g.cols * (g.cell_w + g.sep) + g.sep, CV_8UC3, kSeparator);
  cv::Mat kernel(k, k, CV_8UC3);
  auto at = [&](int y, int x, int ch, int f) {
    return hwio[((static_cast<size_t>(y) * k + x) * in_c + ch) * n + f];
  };
  for (int f = 0; f < n; ++f) {
    float lo = at(0, 0, 0, f), hi = lo;
    for (int y = 0; y < k; ++y) {
      for (int x = 0; x < k; ++x) {
        for (int ch = 0; ch < in_c; ++ch) {
          lo = std::min(lo, at(y, x, ch, f));
          hi = std::max(hi, at(y, x, ch, f));
        }
      }
    }
    const float s = hi > lo ? 255.0f / (hi - lo) : 0.0f;
    for (int y = 0; y < k; ++y) {
      for (int x = 0; x < k; ++x) {
        cv::Vec3b& o = kernel.at<cv::Vec3b>(y, x);
        for (int ch = 0; ch < 3; ++ch) {
          // RGB weights to BGR pixels; a non-RGB input shows its first channel as grey.
          const float v = at(y, x, in_c == 3 ? ch : 0, f);
          o[2 - ch] = s > 0 ? cv::saturate_cast<uint8_t>((v - lo) * s) : uint8_t{128};
        }
      }
    }
    const cv::Rect cell(g.x0 + (f % g.cols) * (g.cell_w + g.sep), g.y0 + (f / g.cols) * (g.cell_h + g.sep),
                        g.cell_w, g.cell_h);
    Upscale(kernel, scale).copyTo(grid(cell));
  }
  if (layout) *layout = g;
  return grid;
}

cv::Mat StackVertically(const std::vector<cv::Mat>& parts) {
  int width = 0, height = 0;
  for (const cv::Mat& p : parts) {
    width = std::max(width, p.cols);
    height += p.rows;
  }
  cv::Mat out(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  int y = 0;
  for (const cv::Mat& p : parts) {
    if (!p.empty()) p.copyTo(out(cv::Rect(0, y, p.cols, p.rows)));
    y += p.rows;
  }
  return out;
}

Status WritePng(const std::string& path, const cv::Mat& image) {
  std::vector<uint8_t> png;
  try {
    // Level 9: these pictures are small and written once; the docs keep some of them.
    if (!cv::imencode(".png", image, png, {cv::IMWRITE_PNG_COMPRESSION, 9})) {
      return Status::Error(StatusCode::kInternal, path, "PNG encoding failed");
    }
  } catch (const cv::Exception& e) {
    return Status::Error(StatusCode::kInternal, path, std::string("PNG encoding failed: ") + e.what());
  }
  return WriteFileAtomic(path, std::string(png.begin(), png.end()));
}

bool IsNonConstant(const cv::Mat& image) {
  if (image.empty()) return false;
  // Constant means every channel plane is constant (a uniform colour).
  std::vector<cv::Mat> planes;
  cv::split(image, planes);
  for (const cv::Mat& p : planes) {
    double lo = 0, hi = 0;
    cv::minMaxLoc(p, &lo, &hi);
    if (hi > lo) return true;
  }
  return false;
}

}  // namespace alexnet::report
