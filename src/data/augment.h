// Training augmentation from the paper: a random C x C crop of the S x S square, a horizontal
// flip with probability 0.5, and PCA colour augmentation (add sum_i alpha_i lambda_i p_i to
// every pixel, alpha_i ~ N(0, 0.1) drawn once per image per pass).
//
// Reproducibility: each sample's draws come from its own generator seeded by
// (seed, epoch, sample index), so a run replays exactly and the result does not depend on which
// worker thread handled the sample. All draws are made even when an augmentation is switched
// off, so switching one off does not change the others.
#pragma once

#include <array>
#include <cstdint>

#include "data/color_stats.h"
#include "data/preprocess.h"

namespace alexnet::data {

struct AugmentOptions {
  bool random_crop = true;  // off: centre crop
  bool flip = true;         // horizontal mirror with probability 0.5
  bool pca_color = true;    // needs ColorStats
  float pca_alpha_std = 0.1f;
};

struct Augmentation {
  CropSpec crop;
  std::array<float, 3> alpha{};        // the N(0, pca_alpha_std) draws (0 when PCA is off)
  std::array<float, 3> color_shift{};  // added to every pixel, 0..255 units, RGB
};

// The draws for one sample in one epoch. `stats` may be null when pca_color is off.
Augmentation DrawAugmentation(std::uint64_t seed, std::int64_t epoch, std::int64_t sample,
                               int size, int crop, const AugmentOptions& options,
                               const ColorStats* stats);

// 255 * sum_i alpha_i * lambda_i * p_i (see color_stats.h for the scale).
std::array<float, 3> PcaColorShift(const ColorStats& stats, const std::array<float, 3>& alpha);

}  // namespace alexnet::data
