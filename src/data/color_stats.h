// Training-set colour statistics: the mean subtracted from every input and the RGB principal
// components used by the paper's PCA colour augmentation.
//
// Computed once from the training set (compute_color_stats), saved as JSON with the training
// run, and loaded by evaluation/prediction so every stage subtracts exactly the same numbers.
//
// Scales (the paper leaves them implicit):
//  - mean_rgb and mean_image are in pixel units 0..255; inputs stay 0..255 floats minus the mean
//    (the paper's convention: no division by 255 or by a standard deviation).
//  - covariance, eigenvalues are of pixel values divided by 255. With 0..255 values the paper's
//    shift  sum_i alpha_i * lambda_i * p_i  (alpha_i ~ N(0, 0.1)) would be hundreds of grey
//    levels; on the 0..1 scale (as in Caffe/fb.resnet-style replications) it is a few grey
//    levels, and the shift added in 0..255 units is 255 * sum_i alpha_i * lambda_i * p_i.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace alexnet::data {

class Dataset;

struct ColorStats {
  int size = 0;             // S: the side of the S x S squares the statistics were taken on
  std::int64_t images = 0;  // images that contributed
  std::string source;       // dataset description, for the record
  std::array<double, 3> mean_rgb{};  // per-channel mean, 0..255, RGB
  std::vector<float> mean_image;     // per-pixel mean, S * S * 3 (HWC, RGB), 0..255; may be empty
  std::array<std::array<double, 3>, 3> covariance{};  // RGB covariance of values / 255
  std::array<double, 3> eigenvalues{};                // lambda_1 >= lambda_2 >= lambda_3
  std::array<std::array<double, 3>, 3> eigenvectors{};  // eigenvectors[i] = p_i (unit, RGB)
};

struct ColorStatsOptions {
  int size = 256;                 // S, the same as the pipeline's PreprocessOptions::resize
  std::size_t max_images = 5000;  // a seeded sample of this many (0 = all images)
  std::uint64_t seed = 0;
  int threads = 2;
  bool mean_image = true;  // also accumulate the S x S x 3 per-pixel mean
};

// Decodes (a sample of) the dataset, brings each image to the S x S central square exactly as
// the pipeline does, and accumulates exact integer sums, so the result does not depend on the
// thread count. Files that fail to load are skipped (dataset.skip_log()); it fails only if no
// image loads.
Result<ColorStats> ComputeColorStats(const Dataset& dataset, const ColorStatsOptions& options);

// Fills covariance-derived fields (eigenvalues/vectors, sorted, signs fixed so each p_i has a
// positive component sum) from the covariance.
void ComputePrincipalComponents(ColorStats& stats);

nlohmann::json ColorStatsToJson(const ColorStats& stats);
// origin names the file (or the checkpoint field) in error messages.
Result<ColorStats> ColorStatsFromJson(const nlohmann::json& json, const std::string& origin);
Status SaveColorStats(const ColorStats& stats, const std::string& path);
Result<ColorStats> LoadColorStats(const std::string& path);

}  // namespace alexnet::data
