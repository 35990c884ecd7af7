#include "data/color_stats.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <thread>

#include <opencv2/core.hpp>

#include "data/dataset.h"
#include "data/json_fields.h"
#include "data/preprocess.h"
#include "data/random.h"

namespace alexnet::data {
namespace {

// Exact integer sums: the result is the same whatever the thread count or order.
struct Accumulator {
  std::int64_t images = 0;
  std::int64_t pixels = 0;
  std::array<std::int64_t, 3> sum{};
  std::array<std::int64_t, 6> cross{};  // rr rg rb gg gb bb
  std::vector<std::int64_t> image_sum;  // S * S * 3, when the mean image is wanted
};

void Accumulate(const cv::Mat& square, Accumulator& acc) {
  const int S = square.rows;
  for (int y = 0; y < S; ++y) {
    const std::uint8_t* p = square.ptr<std::uint8_t>(y);
    std::int64_t s0 = 0, s1 = 0, s2 = 0, c00 = 0, c01 = 0, c02 = 0, c11 = 0, c12 = 0, c22 = 0;
    for (int x = 0; x < S; ++x, p += 3) {
      const std::int64_t r = p[0], g = p[1], b = p[2];
      s0 += r; s1 += g; s2 += b;
      c00 += r * r; c01 += r * g; c02 += r * b; c11 += g * g; c12 += g * b; c22 += b * b;
    }
    acc.sum[0] += s0; acc.sum[1] += s1; acc.sum[2] += s2;
    acc.cross[0] += c00; acc.cross[1] += c01; acc.cross[2] += c02;
    acc.cross[3] += c11; acc.cross[4] += c12; acc.cross[5] += c22;
    if (!acc.image_sum.empty()) {
      const std::uint8_t* q = square.ptr<std::uint8_t>(y);
      std::int64_t* t = acc.image_sum.data() + static_cast<std::size_t>(y) * S * 3;
      for (int i = 0; i < S * 3; ++i) t[i] += q[i];
    }
  }
  acc.images += 1;
  acc.pixels += static_cast<std::int64_t>(S) * S;
}

// Adds b's sums into a (image_sum only when a has one).
void Merge(Accumulator& a, const Accumulator& b) {
  a.images += b.images;
  a.pixels += b.pixels;
  for (int c = 0; c < 3; ++c) a.sum[c] += b.sum[c];
  for (int c = 0; c < 6; ++c) a.cross[c] += b.cross[c];
  for (std::size_t i = 0; i < a.image_sum.size(); ++i) a.image_sum[i] += b.image_sum[i];
}

// A seeded partial shuffle picks max_images of the n indices (all when 0); sorted afterwards so
// files are read in directory order.
std::vector<std::size_t> ChooseSample(std::size_t n, std::size_t max_images, std::uint64_t seed) {
  std::vector<std::size_t> chosen(n);
  for (std::size_t i = 0; i < n; ++i) chosen[i] = i;
  const std::size_t m = max_images == 0 ? n : std::min(n, max_images);
  if (m < n) {
    Rng rng(DeriveSeed(seed, static_cast<std::uint64_t>(RngPurpose::kSample)));
    for (std::size_t i = 0; i < m; ++i) std::swap(chosen[i], chosen[i + rng.Below(n - i)]);
    chosen.resize(m);
    std::sort(chosen.begin(), chosen.end());
  }
  return chosen;
}

// The first load failure of any thread, quoted when no image loads at all.
class FirstFailure {
 public:
  void note(const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (first_.empty()) first_ = message;
  }
  const std::string& text() const { return first_; }  // read after the threads are joined

 private:
  std::mutex mutex_;
  std::string first_;
};

// Thread t's share of the sample: chosen[t], chosen[t + threads], ... Files that fail to load
// are logged and skipped.
void AccumulateShare(const Dataset& dataset, const std::vector<std::size_t>& chosen, int t, int threads, int S,
                     Accumulator& acc, FirstFailure& first_failure) {
  cv::Mat rgb, scratch;
  for (std::size_t k = static_cast<std::size_t>(t); k < chosen.size(); k += threads) {
    const Status st = dataset.LoadRgb8(chosen[k], rgb);
    if (!st.ok()) {
      dataset.skip_log().Add(st.path(), st.reason());
      first_failure.note(st.message());
      continue;
    }
    Accumulate(CenterSquare(rgb, S, scratch), acc);
  }
}

// Sums over the sample on `threads` threads (the caller's included), one Accumulator each,
// merged at the end. An exception in any thread (e.g. out of memory) fails the whole pass.
Result<Accumulator> AccumulateSample(const Dataset& dataset, const std::vector<std::size_t>& chosen,
                                     const ColorStatsOptions& options, int threads, FirstFailure& first_failure) {
  const int S = options.size;
  std::vector<Accumulator> accs(static_cast<std::size_t>(threads));
  std::vector<std::string> fatal(static_cast<std::size_t>(threads));
  auto work = [&](int t) {
    try {
      Accumulator& acc = accs[static_cast<std::size_t>(t)];
      if (options.mean_image) acc.image_sum.assign(static_cast<std::size_t>(S) * S * 3, 0);
      AccumulateShare(dataset, chosen, t, threads, S, acc, first_failure);
    } catch (const std::exception& e) {
      fatal[static_cast<std::size_t>(t)] = e.what();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  for (const auto& f : fatal) {
    if (!f.empty()) return Status::Internal("colour statistics failed: " + f);
  }
  Accumulator total = std::move(accs[0]);
  for (std::size_t t = 1; t < accs.size(); ++t) Merge(total, accs[t]);
  return total;
}

// Per-channel mean and the covariance of values / 255, in long double from the exact sums.
void MeanAndCovariance(const Accumulator& total, ColorStats& stats) {
  const long double P = static_cast<long double>(total.pixels);
  long double mean[3];
  for (int c = 0; c < 3; ++c) {
    mean[c] = static_cast<long double>(total.sum[c]) / P;
    stats.mean_rgb[c] = static_cast<double>(mean[c]);
  }
  const int idx[3][3] = {{0, 1, 2}, {1, 3, 4}, {2, 4, 5}};  // (i, j) -> rr rg rb gg gb bb
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      const long double exy = static_cast<long double>(total.cross[idx[i][j]]) / P;
      stats.covariance[i][j] = static_cast<double>((exy - mean[i] * mean[j]) / (255.0L * 255.0L));
    }
  }
}

std::vector<float> MeanImage(const Accumulator& total) {
  std::vector<float> mean(total.image_sum.size());
  for (std::size_t i = 0; i < total.image_sum.size(); ++i) {
    mean[i] = static_cast<float>(static_cast<double>(total.image_sum[i]) / static_cast<double>(total.images));
  }
  return mean;
}

Status FieldError(const std::string& origin, const std::string& what) {
  return Status::BadInput(origin, "invalid colour statistics: " + what);
}

}  // namespace

void ComputePrincipalComponents(ColorStats& stats) {
  cv::Mat cov(3, 3, CV_64F), values, vectors;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) cov.at<double>(i, j) = stats.covariance[i][j];
  cv::eigen(cov, values, vectors);  // descending eigenvalues, eigenvectors as rows
  for (int i = 0; i < 3; ++i) {
    stats.eigenvalues[i] = std::max(0.0, values.at<double>(i));  // rounding can give -1e-18
    std::array<double, 3> v{vectors.at<double>(i, 0), vectors.at<double>(i, 1),
                            vectors.at<double>(i, 2)};
    // An eigenvector's sign is arbitrary; fix it so saved files are reproducible.
    double sum = v[0] + v[1] + v[2];
    if (std::abs(sum) < 1e-12) sum = std::abs(v[0]) > 1e-12 ? v[0] : v[1];
    if (sum < 0) for (auto& x : v) x = -x;
    stats.eigenvectors[i] = v;
  }
}

Result<ColorStats> ComputeColorStats(const Dataset& dataset, const ColorStatsOptions& options) {
  if (options.size < 1 || options.size > 4096) {
    return Status::BadInput("", "colour statistics: size must be in 1..4096");
  }
  const std::size_t n = dataset.size();
  if (n == 0) return Status::BadInput("", "colour statistics: the dataset is empty");
  const std::vector<std::size_t> chosen = ChooseSample(n, options.max_images, options.seed);
  const std::size_t m = chosen.size();
  const int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(m)));
  FirstFailure first_failure;
  ALEXNET_ASSIGN_OR_RETURN(const Accumulator total, AccumulateSample(dataset, chosen, options, threads, first_failure));
  if (total.images == 0) {
    return Status::BadInput("", "colour statistics: no image could be loaded from " +
                                 dataset.description() + " (" + std::to_string(m) +
                                 " tried; first failure: " + first_failure.text() + ")");
  }
  ColorStats stats;
  stats.size = options.size;
  stats.images = total.images;
  stats.source = dataset.description();
  MeanAndCovariance(total, stats);
  ComputePrincipalComponents(stats);
  if (options.mean_image) stats.mean_image = MeanImage(total);
  return stats;
}

nlohmann::json ColorStatsToJson(const ColorStats& s) {
  nlohmann::json j;
  j["format"] = "alexnet-color-stats";
  j["version"] = 1;
  j["size"] = s.size;
  j["images"] = s.images;
  j["source"] = s.source;
  j["scale"] =
      "mean_rgb and mean_image in pixel units 0..255; covariance and eigenvalues of pixel "
      "values / 255; PCA shift added = 255 * sum_i alpha_i * eigenvalues[i] * eigenvectors[i]";
  j["mean_rgb"] = s.mean_rgb;
  j["covariance"] = s.covariance;
  j["eigenvalues"] = s.eigenvalues;
  j["eigenvectors"] = s.eigenvectors;
  if (!s.mean_image.empty()) j["mean_image"] = s.mean_image;
  return j;
}

Result<ColorStats> ColorStatsFromJson(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) return FieldError(origin, "not a JSON object");
  // Not j.value("format", std::string()): it throws when "format" is not a string, and this is
  // outside the try below (found by fuzzing, fuzz/fuzz_color_stats).
  const auto format = j.find("format");
  if (format == j.end() || !format->is_string() || format->get_ref<const std::string&>() != "alexnet-color-stats") {
    return FieldError(origin, "\"format\" is not \"alexnet-color-stats\"");
  }
  // Before any get<int>(): a float there (1e300) would be an undefined cast (json_fields.h).
  if (Status integers = CheckIntegerFields(ColorStatsToJson(ColorStats{}), j); !integers.ok()) {
    return FieldError(origin, integers.reason());
  }
  ColorStats s;
  try {
    if (j.at("version").get<int>() != 1) return FieldError(origin, "unsupported \"version\"");
    s.size = j.at("size").get<int>();
    s.images = j.at("images").get<std::int64_t>();
    s.source = j.value("source", std::string());
    s.mean_rgb = j.at("mean_rgb").get<std::array<double, 3>>();
    s.covariance = j.at("covariance").get<std::array<std::array<double, 3>, 3>>();
    s.eigenvalues = j.at("eigenvalues").get<std::array<double, 3>>();
    s.eigenvectors = j.at("eigenvectors").get<std::array<std::array<double, 3>, 3>>();
    if (j.contains("mean_image")) s.mean_image = j.at("mean_image").get<std::vector<float>>();
  } catch (const std::exception& e) {
    return FieldError(origin, e.what());
  }
  // None wrapped into its field ({"size": 4294967360} would read as 64).
  if (Status kept = CheckIntegersKept(j, ColorStatsToJson(s)); !kept.ok()) {
    return FieldError(origin, kept.reason());
  }
  if (s.size < 1) return FieldError(origin, "\"size\" must be positive");
  if (!s.mean_image.empty() &&
      s.mean_image.size() != static_cast<std::size_t>(s.size) * s.size * 3) {
    return FieldError(origin, "\"mean_image\" has " + std::to_string(s.mean_image.size()) +
                                   " values, expected size * size * 3 = " +
                                   std::to_string(static_cast<std::size_t>(s.size) * s.size * 3));
  }
  return s;
}

Status SaveColorStats(const ColorStats& stats, const std::string& path) {
  // Written to a temporary name and renamed, so a crash never leaves half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::Io(path, std::string("cannot write: ") + std::strerror(errno));
    out << ColorStatsToJson(stats).dump() << '\n';
    out.flush();
    if (!out) return Status::Io(path, std::string("write failed: ") + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::Io(path, std::string("cannot rename temporary file: ") + std::strerror(errno));
  }
  return Status::Ok();
}

Result<ColorStats> LoadColorStats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(ErrnoCode(errno), path, std::string("cannot open: ") + std::strerror(errno));
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::BadInput(path, "not valid JSON");
  return ColorStatsFromJson(j, path);
}

}  // namespace alexnet::data
