#include "data/augment.h"

#include "data/random.h"

namespace alexnet::data {

std::array<float, 3> PcaColorShift(const ColorStats& stats, const std::array<float, 3>& alpha) {
  std::array<float, 3> shift{};
  for (int c = 0; c < 3; ++c) {
    double v = 0;
    for (int i = 0; i < 3; ++i) v += alpha[i] * stats.eigenvalues[i] * stats.eigenvectors[i][c];
    shift[c] = static_cast<float>(255.0 * v);
  }
  return shift;
}

Augmentation DrawAugmentation(std::uint64_t seed, std::int64_t epoch, std::int64_t sample,
                               int size, int crop, const AugmentOptions& options,
                               const ColorStats* stats) {
  Rng rng(DeriveSeed(seed, static_cast<std::uint64_t>(RngPurpose::kAugment),
                      static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(sample)));
  const std::uint64_t positions = static_cast<std::uint64_t>(size - crop + 1);
  // Fixed draw order: x, y, flip, alpha_1..3.
  const int x = static_cast<int>(rng.Below(positions));
  const int y = static_cast<int>(rng.Below(positions));
  const bool flip = rng.Uniform() < 0.5;
  std::array<float, 3> alpha{};
  for (auto& a : alpha) a = static_cast<float>(rng.Normal() * options.pca_alpha_std);

  Augmentation aug;
  aug.crop = options.random_crop ? CropSpec{x, y, false} : CenterCrop(size, crop);
  aug.crop.flip = options.flip && flip;
  if (options.pca_color && stats) {
    aug.alpha = alpha;
    aug.color_shift = PcaColorShift(*stats, alpha);
  }
  return aug;
}

}  // namespace alexnet::data
