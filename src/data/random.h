// Deterministic random numbers for the data pipeline.
//
// Why our own generator and distributions: std::uniform_int_distribution and
// std::normal_distribution differ between standard libraries, and a run must replay the same
// crops, flips and colour shifts from its seed. Every random decision is derived from
// (seed, purpose, epoch, sample index), so it does not depend on thread scheduling either.
#pragma once

#include <cmath>
#include <cstdint>

namespace alexnet::data {

// splitmix64 finaliser: a good 64-bit mix, used both to derive seeds and as the generator.
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One seed from several values (order matters).
inline std::uint64_t DeriveSeed(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0,
                                 std::uint64_t d = 0) {
  std::uint64_t h = mix64(a + 0x9e3779b97f4a7c15ULL);
  h = mix64(h ^ (b + 0x9e3779b97f4a7c15ULL));
  h = mix64(h ^ (c + 0x9e3779b97f4a7c15ULL));
  return mix64(h ^ (d + 0x9e3779b97f4a7c15ULL));
}

// Purposes, so that e.g. the shuffle and the augmentation of epoch 3 use unrelated streams.
enum class RngPurpose : std::uint64_t { kShuffle = 1, kAugment = 2, kSplit = 3, kSample = 4 };

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n), n > 0; rejection keeps it exactly uniform.
  std::uint64_t Below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t r;
    do {
      r = Next();
    } while (r >= limit);
    return r % n;
  }
  // Standard normal (Box-Muller; one value per call, so each draw uses exactly two uniforms).
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1]: log stays finite
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

}  // namespace alexnet::data
