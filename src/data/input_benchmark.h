// Throughput of the input pipeline, for `alexnet bench-input` and bench/bench_input.
//
// Measures images/s handed out by a Loader (after a warm-up) and, in the same process, a
// baseline: the same per-image work (decode, resize, crop, augment, normalise into a batch
// buffer) done one image at a time in the calling thread, without prefetching. The ratio says
// what the threaded loader buys.
#pragma once

#include <cstdint>
#include <memory>

#include "data/dataset.h"
#include "data/loader.h"
#include "util/status.h"

namespace alexnet::data {

struct InputBenchmarkOptions {
  // Workers, batch size, S, C, augmentation. If `loader.stats` is null (and the mean mode or
  // PCA needs it), statistics are first computed from 256 images (not timed).
  LoaderOptions loader;
  std::int64_t images = 2000;        // timed images (the loader cycles epochs as needed)
  std::int64_t warmup_images = 256;  // handed out before the clock starts
  bool baseline = true;              // also time the single-threaded loop
  std::int64_t baseline_images = 0;  // 0: same as `images`
};

struct InputBenchmarkResult {
  int workers = 0;
  std::int64_t images = 0;    // timed images from the loader
  double seconds = 0;
  double images_per_second = 0;
  std::int64_t baseline_images = 0;
  double baseline_seconds = 0;
  double baseline_images_per_second = 0;  // 0 when not run
  double speedup = 0;                     // images_per_second / baseline_images_per_second
  std::int64_t skipped = 0;               // failed samples met while timing
  // Process CPU seconds per wall second while timing: how many cores the workers really got
  // (on a shared machine a low figure explains a low speed-up).
  double loader_cores_used = 0;
  double baseline_cores_used = 0;
};

Result<InputBenchmarkResult> RunInputBenchmark(std::shared_ptr<const Dataset> dataset,
                                                 const InputBenchmarkOptions& options);

}  // namespace alexnet::data
