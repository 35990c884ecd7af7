#include "data/input_benchmark.h"

#include <algorithm>
#include <time.h>

#include <chrono>
#include <vector>

#include <opencv2/core.hpp>

#include "data/augment.h"
#include "data/preprocess.h"

namespace alexnet::data {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// The loader options as benchmarked: endless epochs from the start; colour statistics from 256
// images (not timed) when the mean mode or PCA needs them and none were given.
Result<LoaderOptions> BenchmarkLoaderOptions(const Dataset& dataset, const LoaderOptions& given) {
  LoaderOptions lo = given;
  lo.epochs = 0;  // cycle through the data as long as we time
  lo.start_epoch = 0;
  lo.start_batch = 0;
  const bool needs_stats = lo.preprocess.mean != MeanMode::kNone ||
                           (lo.augment && !lo.ten_crop && lo.augmentation.pca_color);
  if (needs_stats && !lo.stats) {
    ColorStatsOptions so;
    so.size = lo.preprocess.resize;
    so.max_images = 256;
    so.threads = std::max(1, lo.workers);
    so.mean_image = lo.preprocess.mean == MeanMode::kPerPixel;
    auto stats = ComputeColorStats(dataset, so);
    if (!stats.ok()) return stats.status();
    lo.stats = std::make_shared<const ColorStats>(std::move(*stats));
  }
  return lo;
}

// Sample i through a worker's steps (decode, S x S square, crop with augmentation or centre
// crop, normalise) into out; false when it does not load.
bool ProcessLikeAWorker(const Dataset& dataset, std::size_t i, const LoaderOptions& lo, const Normalization& norm,
                        cv::Mat& rgb, cv::Mat& scratch, float* out) {
  const int S = lo.preprocess.resize, C = lo.preprocess.crop;
  if (!dataset.LoadRgb8(i, rgb).ok()) return false;
  const cv::Mat square = CenterSquare(rgb, S, scratch);
  if (lo.augment) {
    const Augmentation aug = DrawAugmentation(lo.seed, 0, static_cast<std::int64_t>(i), S, C,
                                               lo.augmentation, lo.stats.get());
    WriteCrop(square, aug.crop, C, norm, aug.color_shift, out);
  } else {
    WriteCrop(square, CenterCrop(S, C), C, norm, {0, 0, 0}, out);
  }
  return true;
}

// The baseline: one thread, one image at a time, into a batch-sized buffer like a worker's.
Status TimeBaseline(const Dataset& dataset, const LoaderOptions& lo, std::int64_t count, InputBenchmarkResult& r) {
  auto norm = MakeNormalization(lo.stats.get(), lo.preprocess);
  if (!norm.ok()) return norm.status();
  const int C = lo.preprocess.crop;
  const std::size_t per_sample = static_cast<std::size_t>(C) * C * 3;
  std::vector<float> buffer(per_sample * static_cast<std::size_t>(lo.batch_size));
  cv::Mat rgb, scratch;
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = ProcessCpuSeconds();
  std::int64_t done = 0;
  for (std::int64_t k = 0; k < count; ++k) {
    const std::size_t i = static_cast<std::size_t>(k) % dataset.size();
    float* out = buffer.data() + per_sample * static_cast<std::size_t>(k % lo.batch_size);
    if (ProcessLikeAWorker(dataset, i, lo, *norm, rgb, scratch, out)) ++done;
  }
  r.baseline_seconds = SecondsSince(t0);
  r.baseline_cores_used = (ProcessCpuSeconds() - cpu0) / std::max(r.baseline_seconds, 1e-9);
  r.baseline_images = done;
  r.baseline_images_per_second = done / std::max(r.baseline_seconds, 1e-9);
  return Status::Ok();
}

// After warmup_images, times at least options.images handed out by a Loader; fills r's loader
// fields.
Result<InputBenchmarkResult> TimeLoader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& lo,
                                        const InputBenchmarkOptions& options, InputBenchmarkResult r) {
  auto loader = Loader::Create(std::move(dataset), lo);
  if (!loader.ok()) return loader.status();
  Batch batch;
  std::int64_t warm = 0;
  while (warm < options.warmup_images) {
    if (!(*loader)->Next(batch)) return (*loader)->status();
    warm += batch.size;
  }
  const std::int64_t skipped0 = (*loader)->skipped_samples();
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = ProcessCpuSeconds();
  while (r.images < options.images) {
    if (!(*loader)->Next(batch)) return (*loader)->status();
    r.images += batch.size;
  }
  r.seconds = SecondsSince(t0);
  r.loader_cores_used = (ProcessCpuSeconds() - cpu0) / std::max(r.seconds, 1e-9);
  r.images_per_second = r.images / std::max(r.seconds, 1e-9);
  r.skipped = (*loader)->skipped_samples() - skipped0;
  return r;
}

}  // namespace

Result<InputBenchmarkResult> RunInputBenchmark(std::shared_ptr<const Dataset> dataset,
                                                 const InputBenchmarkOptions& options) {
  if (!dataset || dataset->size() == 0) return Status::BadInput("", "input benchmark: empty dataset");
  if (options.images < 1) return Status::BadInput("", "input benchmark: images must be >= 1");
  ALEXNET_ASSIGN_OR_RETURN(const LoaderOptions lo, BenchmarkLoaderOptions(*dataset, options.loader));
  // The baseline loop below runs before the loader would check these (a crop larger than the
  // resize, or batches of 0, must be an error, not a crash).
  if (lo.batch_size < 1) return Status::BadInput("", "input benchmark: batch size must be >= 1");
  ALEXNET_RETURN_IF_ERROR(CheckPreprocessOptions(lo.preprocess));
  if (lo.single_threaded_opencv) cv::setNumThreads(0);

  InputBenchmarkResult r;
  r.workers = lo.workers;
  // Baseline first, before any loader thread exists.
  if (options.baseline) {
    const std::int64_t count = options.baseline_images > 0 ? options.baseline_images : options.images;
    ALEXNET_RETURN_IF_ERROR(TimeBaseline(*dataset, lo, count, r));
  }
  ALEXNET_ASSIGN_OR_RETURN(r, TimeLoader(std::move(dataset), lo, options, r));
  if (r.baseline_images_per_second > 0) r.speedup = r.images_per_second / r.baseline_images_per_second;
  return r;
}

}  // namespace alexnet::data
