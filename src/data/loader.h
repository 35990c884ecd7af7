// The threaded input pipeline: worker threads decode, resize, crop, augment and normalise
// samples straight into batch buffers; the consumer (the training loop) takes finished batches
// in a fixed order.
//
// Guarantees:
//  - Deterministic: the batch sequence (samples, order, crops, flips, colour shifts, bytes) is a
//    function of the seed and the options only, not of the worker count or thread timing.
//    Batches are finished out of order by the workers and handed out in order.
//  - Shuffle: a fresh permutation of the dataset per epoch, seeded by (seed, epoch).
//  - Bounded memory: at most queue_depth batches exist at any time (being filled or ready),
//    plus the one the consumer holds, whatever the dataset size; batch storage is recycled.
//  - Bad samples: a sample that fails to load is skipped, reported once on stderr with its path
//    and reason, counted in Batch::skipped and in the dataset's skip_log(). The batch is then
//    simply smaller (not refilled from later samples, which would make every later batch depend
//    on earlier failures); a batch where every sample failed is not handed out. An epoch in
//    which no sample loads stops the loader with an error (see status()).
//  - Resume: start_epoch/start_batch continue exactly where position() said a run was.
//  - Shutdown: destroying the loader at any time stops the workers after their current sample
//    and joins them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/color_stats.h"
#include "data/dataset.h"
#include "data/preprocess.h"
#include "util/status.h"

namespace alexnet::data {

struct LoaderOptions {
  int batch_size = 128;
  int workers = 2;
  int queue_depth = 4;  // batches filled ahead; >= workers keeps every worker busy
  std::uint64_t seed = 0;
  bool shuffle = true;
  bool augment = true;  // training: `augmentation` below; false: centre crop only
  AugmentOptions augmentation;
  bool ten_crop = false;  // evaluation: 10 views per sample (corners, centre, mirrors)
  bool drop_last = false;  // drop the last, smaller batch of each epoch
  PreprocessOptions preprocess;             // S, C, mean mode
  std::shared_ptr<const ColorStats> stats;  // mean and PCA; null only with MeanMode::kNone
                                            // and no PCA augmentation
  std::int64_t start_epoch = 0;  // resume position: the first batch handed out is
  std::int64_t start_batch = 0;  // (start_epoch, start_batch)
  std::int64_t epochs = 1;       // stop before epoch `epochs` (absolute); 0 = never stop
  // Data parallelism: batch_size is the global batch of all replicas, and this loader hands
  // out replica `shard`'s part of it (samples [count * shard / shards, count * (shard + 1) /
  // shards) of each global batch of `count`), so the replicas together see exactly the batches
  // of one loader with shards = 1. With shards > 1 a batch is handed out even when none of its
  // samples loaded (size 0), so that every replica takes the same number of steps.
  int shard = 0;
  int shards = 1;
  // cv::setNumThreads(0) (process-wide): the workers are the parallelism; OpenCV's own thread
  // pool inside each worker would only oversubscribe the cores.
  bool single_threaded_opencv = true;
};

struct Batch {
  std::int64_t epoch = 0;
  std::int64_t index = 0;  // batch index within the epoch
  bool last_in_epoch = false;
  int size = 0;     // samples in this batch
  // Samples that failed to load since the previous batch handed out: in this batch's slot,
  // plus any batch skipped whole before it. (Loader::skipped_samples() has the running total.)
  int skipped = 0;
  int views = 1;    // 10 with ten_crop
  int height = 0, width = 0, channels = 3;
  // size * views images of height x width x 3 (NHWC; with ten_crop the 10 views of a sample
  // are consecutive), RGB, 0..255 minus the mean.
  std::vector<float> images;
  std::vector<std::int32_t> labels;   // size
  std::vector<std::int64_t> indices;  // dataset indices, size
};

struct LoaderPosition {
  std::int64_t epoch = 0;
  std::int64_t batch = 0;
};

class Loader {
 public:
  static Result<std::unique_ptr<Loader>> Create(std::shared_ptr<const Dataset> dataset,
                                                const LoaderOptions& options);
  // Batches per epoch of `samples` samples with `options`' batch size and drop_last, as
  // batches_per_epoch() of a loader made with them (0 when drop_last leaves none, or for a
  // batch size below 1, which Create refuses).
  static std::int64_t BatchesPerEpoch(std::int64_t samples, const LoaderOptions& options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Waits for the next batch and swaps it into `batch` (whose old storage is recycled, so
  // reusing one Batch object avoids allocations). Returns false when the requested epochs are
  // done or the loader failed; status() tells which.
  bool Next(Batch& batch);

  Status status() const;                      // ok, or why the loader stopped
  std::int64_t batches_per_epoch() const { return batches_per_epoch_; }
  LoaderPosition position() const;            // of the next batch next() will consider
  std::int64_t skipped_samples() const;       // failed sample loads handed out so far
  const Dataset& dataset() const { return *dataset_; }

 private:
  Loader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options,
         const Normalization& norm, std::int64_t batches_per_epoch);
  void Worker();
  void Fill(std::int64_t seq, Batch& batch);
  std::shared_ptr<const std::vector<std::uint32_t>> Permutation(std::int64_t epoch);

  const std::shared_ptr<const Dataset> dataset_;
  const LoaderOptions options_;
  const Normalization norm_;
  const std::int64_t batches_per_epoch_;
  const std::int64_t start_linear_;  // start_epoch * batches_per_epoch + start_batch
  const std::int64_t end_seq_;       // batches to hand out (INT64_MAX: unbounded)

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;   // workers wait for room
  std::condition_variable ready_cv_;  // the consumer waits for its batch
  std::atomic<bool> stop_{false};
  std::int64_t next_claim_ = 0;    // sequence number of the next batch to start
  std::int64_t next_deliver_ = 0;  // sequence number the consumer takes next
  std::map<std::int64_t, Batch> ready_;
  std::vector<Batch> free_;
  Status error_;
  std::int64_t skipped_samples_ = 0;
  int carried_skips_ = 0;
  bool epoch_has_sample_ = false;

  std::mutex perm_mutex_;
  std::map<std::int64_t, std::shared_ptr<const std::vector<std::uint32_t>>> permutations_;

  std::vector<std::thread> threads_;
};

}  // namespace alexnet::data
