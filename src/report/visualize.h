// Pictures of what the network computes, drawn with OpenCV (no TensorFlow here): feature-map
// grids for the conv stages, bar charts for the FC stages, the top classes, the input crop, and
// the conv1 kernels as in the paper's Figure 3. Every function returns an 8-bit BGR image
// (cv::imwrite order) and takes plain float arrays, so tests can feed it made-up numbers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "util/status.h"

namespace alexnet::report {

// Where the cells of a grid image are: cell (r, c) has its top-left corner at
// (x0 + c * (cell_w + sep), y0 + r * (cell_h + sep)); the `sep` pixels between and around
// cells are painted kSeparator.
struct GridLayout {
  int rows = 0, cols = 0;
  int cell_w = 0, cell_h = 0;  // after upscaling
  int sep = 0;
  int x0 = 0, y0 = 0;          // top-left of the first cell (below the caption, if any)
};

// The colour of grid separators (BGR): light grey. No viridis colour is grey; a whole row of
// kernel pixels exactly this grey is practically impossible, so tests can count cells by it.
inline const cv::Scalar kSeparator(200, 200, 200);

// rows x cols for n cells, as square as possible without empty cells when n has a suitable
// divisor (96 -> 8 x 12, 256 -> 16 x 16, 384 -> 16 x 24), else ceil(sqrt(n)) columns.
std::pair<int, int> GridShape(int n);

// Integer nearest-neighbour upscale factor that brings `cols` cells of side `side` to about
// `target_width` pixels (at least 1, at most `max_scale`).
int UpscaleFactor(int side, int cols, int target_width, int max_scale = 8);

// A white band with `lines` of text (cv::putText) stacked above `body`; the result is as wide
// as the wider of the two. Returns the band height in *band if not null.
cv::Mat AddCaption(const cv::Mat& body, const std::vector<std::string>& lines, int* band = nullptr);

// Feature maps of one image: `hwc` holds h * w * c floats (NHWC without N). Each channel is
// min-max normalised on its own (a constant channel, e.g. all zero after the ReLU, is drawn dark
// grey and counted in *constant_channels), coloured with viridis, upscaled with nearest
// neighbour (an integer factor, to about `target_width` pixels) and placed in a grid with thin
// separators. No caption.
cv::Mat FeatureMapGrid(const float* hwc, int h, int w, int c, GridLayout* layout = nullptr,
                       int* constant_channels = nullptr, int target_width = 1100);

// The network's input crop (h * w * 3 floats, RGB, 0..255 minus the mean) with `mean_rgb` added
// back, clipped to 0..255, upscaled to at least `min_side` pixels.
cv::Mat InputCropImage(const float* hwc, int h, int w, const float mean_rgb[3], int min_side = 227);

// The colours (BGR) of fc8's classes: the true class, when known, and the top prediction when
// it is not the true class (or the true class is not known); every other bar is a muted blue.
// Okabe and Ito's bluish green and orange, which stay apart for red-green colour blindness.
inline const cv::Scalar kTrueClassColour(115, 158, 0);
inline const cv::Scalar kPredictionColour(0, 159, 230);
inline const cv::Scalar kPlainBarColour(180, 110, 40);  // every other bar of every chart

// All n values of an FC layer as a bar chart `width` pixels wide (when n > width, each pixel
// column shows the largest value of the units that fall in it). Zero line and y range marked.
// `unit_colours` colours single units' bars (unit, BGR) where a column shows one unit.
cv::Mat UnitBarChart(const std::vector<float>& values, int width = 1024, int height = 220,
                     const std::vector<std::pair<int, cv::Scalar>>& unit_colours = {});

// One bar of the class chart: "0.931  Trouser", drawn in `colour`.
struct ClassBar {
  std::string text;   // the class name and what the colour means, e.g. "Ankle boot  <- true class"
  float probability = 0;
  cv::Scalar colour = kPlainBarColour;  // or kTrueClassColour, kPredictionColour
  bool gap_before = false;  // a row of dots before this bar: the true class, ranked below the rest
};

// Classes as horizontal bars, most probable first; a probability of 1 fills width - 300 pixels.
// The image is `width` wide, or wider when the longest text would not fit after a full bar.
cv::Mat TopClassesChart(const std::vector<ClassBar>& bars, int width = 640);

// conv1's kernels, weights in TensorFlow's HWIO layout [k, k, 3, n] (RGB input channels): each
// kernel min-max normalised over all its k*k*3 values, upscaled `scale` times with nearest
// neighbour, in a grid of `rows` rows (8 x 12 for 96 kernels, the paper's Figure 3).
cv::Mat FilterGrid(const float* hwio, int k, int in_c, int n, int scale = 5, int rows = 8,
                   GridLayout* layout = nullptr);

// Stacks images vertically on white, left-aligned, as wide as the widest.
cv::Mat StackVertically(const std::vector<cv::Mat>& parts);

// Encodes `image` as PNG and writes it atomically.
Status WritePng(const std::string& path, const cv::Mat& image);

// True if some pixel differs from the first one (a picture with something in it).
bool IsNonConstant(const cv::Mat& image);

}  // namespace alexnet::report
