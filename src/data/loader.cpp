#include "data/loader.h"

#include <algorithm>
#include <exception>
#include <limits>
#include <numeric>
#include <string>

#include <opencv2/core.hpp>

#include "data/random.h"
#include "data/ten_crop.h"

namespace alexnet::data {
namespace {

// Sets b's position and shape and sizes its buffers for `count` samples (their storage is
// reused from batch to batch). Returns the floats per sample.
std::size_t ShapeBatch(const LoaderOptions& o, std::int64_t epoch, std::int64_t index, bool last_in_epoch,
                       int count, Batch& b) {
  const int C = o.preprocess.crop;
  b.epoch = epoch;
  b.index = index;
  b.last_in_epoch = last_in_epoch;
  b.views = o.ten_crop ? kTenCrops : 1;
  b.height = C;
  b.width = C;
  b.channels = 3;
  const std::size_t per_sample = static_cast<std::size_t>(b.views) * C * C * 3;
  b.images.resize(per_sample * static_cast<std::size_t>(count));
  b.labels.resize(static_cast<std::size_t>(count));
  b.indices.resize(static_cast<std::size_t>(count));
  return per_sample;
}

// Decodes a sample, takes its S x S square and writes the network input to out: the ten crops,
// an augmented crop (seeded by the epoch and the sample) or the centre crop. An exception
// becomes a failed Status naming the sample.
Status WriteSample(const Dataset& dataset, const LoaderOptions& o, const Normalization& norm, std::size_t sample,
                   std::int64_t epoch, float* out) {
  // Per-thread scratch images: decoded and resized pixels reuse their storage.
  thread_local cv::Mat rgb, scratch;
  const int S = o.preprocess.resize, C = o.preprocess.crop;
  try {
    ALEXNET_RETURN_IF_ERROR(dataset.LoadRgb8(sample, rgb));
    const cv::Mat square = CenterSquare(rgb, S, scratch);
    if (o.ten_crop) {
      WriteTenCrops(square, C, norm, out);
    } else if (o.augment) {
      const Augmentation aug = DrawAugmentation(o.seed, epoch, static_cast<std::int64_t>(sample), S, C,
                                                 o.augmentation, o.stats.get());
      WriteCrop(square, aug.crop, C, norm, aug.color_shift, out);
    } else {
      WriteCrop(square, CenterCrop(S, C), C, norm, {0, 0, 0}, out);
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::BadInput(dataset.name(sample), std::string("processing failed: ") + e.what());
  }
}

// Shrinks b to the `size` samples that loaded (they were packed at the front).
void KeepLoaded(int size, int skipped, std::size_t per_sample, Batch& b) {
  b.size = size;
  b.skipped = skipped;
  b.images.resize(per_sample * static_cast<std::size_t>(size));
  b.labels.resize(static_cast<std::size_t>(size));
  b.indices.resize(static_cast<std::size_t>(size));
}

}  // namespace

Result<std::unique_ptr<Loader>> Loader::Create(std::shared_ptr<const Dataset> dataset,
                                               const LoaderOptions& o) {
  if (!dataset) return Status::Internal("loader: no dataset");
  const std::int64_t n = static_cast<std::int64_t>(dataset->size());
  if (n == 0) return Status::BadInput("", "loader: the dataset is empty");
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    return Status::BadInput("", "loader: more than 2^32 samples are not supported");
  }
  if (o.batch_size < 1) return Status::BadInput("", "loader: batch_size must be >= 1");
  if (o.workers < 1) return Status::BadInput("", "loader: workers must be >= 1");
  if (o.queue_depth < 1) return Status::BadInput("", "loader: queue_depth must be >= 1");
  ALEXNET_RETURN_IF_ERROR(CheckPreprocessOptions(o.preprocess));
  auto norm = MakeNormalization(o.stats.get(), o.preprocess);
  if (!norm.ok()) return Status::Error(norm.status().code(), "", "loader: " + norm.status().reason());
  if (o.augment && !o.ten_crop && o.augmentation.pca_color && !o.stats) {
    return Status::BadInput("", "loader: PCA colour augmentation needs colour statistics "
                             "(set LoaderOptions::stats, or augmentation.pca_color = false)");
  }
  const std::int64_t bpe = BatchesPerEpoch(n, o);
  if (bpe == 0) {
    return Status::BadInput("", "loader: drop_last with batch_size " + std::to_string(o.batch_size) +
                                 " > dataset size " + std::to_string(n) + " leaves no batch");
  }
  if (o.start_epoch < 0 || o.start_batch < 0 || o.start_batch >= bpe) {
    return Status::BadInput("", "loader: start position (epoch " + std::to_string(o.start_epoch) +
                                 ", batch " + std::to_string(o.start_batch) +
                                 ") is outside the data (" + std::to_string(bpe) +
                                 " batches per epoch)");
  }
  if (o.epochs < 0) return Status::BadInput("", "loader: epochs must be >= 0");
  if (o.shards < 1 || o.shard < 0 || o.shard >= o.shards) {
    return Status::BadInput("", "loader: shard " + std::to_string(o.shard) + " of " + std::to_string(o.shards));
  }
  if (o.single_threaded_opencv) cv::setNumThreads(0);
  return std::unique_ptr<Loader>(new Loader(std::move(dataset), o, *norm, bpe));
}

std::int64_t Loader::BatchesPerEpoch(std::int64_t samples, const LoaderOptions& o) {
  if (o.batch_size < 1) return 0;  // refused by Create
  return o.drop_last ? samples / o.batch_size : (samples + o.batch_size - 1) / o.batch_size;
}

Loader::Loader(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options,
               const Normalization& norm, std::int64_t batches_per_epoch)
    : dataset_(std::move(dataset)),
      options_(options),
      norm_(norm),
      batches_per_epoch_(batches_per_epoch),
      start_linear_(options.start_epoch * batches_per_epoch + options.start_batch),
      end_seq_(options.epochs == 0
                   ? std::numeric_limits<std::int64_t>::max()
                   : std::max<std::int64_t>(0, options.epochs * batches_per_epoch - start_linear_)) {
  threads_.reserve(static_cast<std::size_t>(options.workers));
  for (int i = 0; i < options.workers; ++i) threads_.emplace_back(&Loader::Worker, this);
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  ready_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::shared_ptr<const std::vector<std::uint32_t>> Loader::Permutation(std::int64_t epoch) {
  std::lock_guard<std::mutex> lock(perm_mutex_);
  auto it = permutations_.find(epoch);
  if (it != permutations_.end()) return it->second;
  auto perm = std::make_shared<std::vector<std::uint32_t>>(dataset_->size());
  std::iota(perm->begin(), perm->end(), 0u);
  Rng rng(DeriveSeed(options_.seed, static_cast<std::uint64_t>(RngPurpose::kShuffle),
                      static_cast<std::uint64_t>(epoch)));
  for (std::size_t i = perm->size(); i > 1; --i) std::swap((*perm)[i - 1], (*perm)[rng.Below(i)]);
  permutations_[epoch] = perm;
  // Only the epochs in flight are needed; an evicted one is recomputed identically if asked.
  while (permutations_.size() > 3) permutations_.erase(permutations_.begin());
  return perm;
}

void Loader::Fill(std::int64_t seq, Batch& b) {
  const std::int64_t linear = start_linear_ + seq;
  const std::int64_t epoch = linear / batches_per_epoch_;
  const std::int64_t index = linear % batches_per_epoch_;
  const std::int64_t n = static_cast<std::int64_t>(dataset_->size());
  const std::int64_t global_first = index * options_.batch_size;
  const std::int64_t global_count = std::min<std::int64_t>(options_.batch_size, n - global_first);
  const std::int64_t first = global_first + global_count * options_.shard / options_.shards;
  const int count = static_cast<int>(global_first + global_count * (options_.shard + 1) / options_.shards - first);
  const auto perm = options_.shuffle ? Permutation(epoch) : nullptr;
  const std::size_t per_sample = ShapeBatch(options_, epoch, index, index == batches_per_epoch_ - 1, count, b);

  int k = 0, skipped = 0;  // k: samples loaded so far, packed at the front
  for (int j = 0; j < count; ++j) {
    if (stop_.load(std::memory_order_relaxed)) return;
    const std::int64_t pos = first + j;
    const std::size_t sample = perm ? (*perm)[static_cast<std::size_t>(pos)]
                                    : static_cast<std::size_t>(pos);
    float* out = b.images.data() + per_sample * static_cast<std::size_t>(k);
    const Status status = WriteSample(*dataset_, options_, norm_, sample, epoch, out);
    if (!status.ok()) {
      dataset_->skip_log().Add(status.path(), status.reason());
      ++skipped;
      continue;
    }
    b.labels[static_cast<std::size_t>(k)] = dataset_->label(sample);
    b.indices[static_cast<std::size_t>(k)] = static_cast<std::int64_t>(sample);
    ++k;
  }
  KeepLoaded(k, skipped, per_sample, b);
}

void Loader::Worker() {
  try {
    for (;;) {
      std::int64_t seq;
      Batch batch;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_cv_.wait(lock, [&] {
          return stop_ || next_claim_ >= end_seq_ ||
                 next_claim_ < next_deliver_ + options_.queue_depth;
        });
        if (stop_ || next_claim_ >= end_seq_) return;
        seq = next_claim_++;
        if (!free_.empty()) {
          batch = std::move(free_.back());
          free_.pop_back();
        }
      }
      Fill(seq, batch);
      if (stop_) return;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.emplace(seq, std::move(batch));
      }
      ready_cv_.notify_all();
    }
  } catch (const std::exception& e) {  // e.g. out of memory: stop cleanly, report in status()
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error_.ok()) error_ = Status::Internal(std::string("loader worker failed: ") + e.what());
      stop_ = true;
    }
    work_cv_.notify_all();
    ready_cv_.notify_all();
  }
}

bool Loader::Next(Batch& batch) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!error_.ok() || next_deliver_ >= end_seq_) return false;
      ready_cv_.wait(lock, [&] { return !error_.ok() || ready_.count(next_deliver_) > 0; });
      if (!error_.ok()) return false;
      auto node = ready_.extract(next_deliver_);
      ++next_deliver_;
      Batch& got = node.mapped();
      skipped_samples_ += got.skipped;
      if (got.size > 0) epoch_has_sample_ = true;
      if (got.last_in_epoch) {
        if (!epoch_has_sample_ && options_.shards == 1) {
          error_ = Status::BadInput(
              "", "no valid image in epoch " + std::to_string(got.epoch) + " of " +
                      dataset_->description() + ": every sample failed to load (" +
                      std::to_string(dataset_->skip_log().count()) + " files skipped)");
          stop_ = true;
          work_cv_.notify_all();
          return false;
        }
        epoch_has_sample_ = false;
      }
      // Failures in batches that are not handed out (all samples failed) are carried into the
      // next batch handed out, so the consumer's sum of Batch::skipped misses none.
      got.skipped += carried_skips_;
      carried_skips_ = got.size > 0 ? 0 : got.skipped;
      std::swap(batch, got);
      free_.push_back(std::move(got));  // the consumer's previous storage, recycled
    }
    work_cv_.notify_all();
    if (batch.size > 0 || options_.shards > 1) return true;
  }
}

Status Loader::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

LoaderPosition Loader::position() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::int64_t linear = start_linear_ + next_deliver_;
  return {linear / batches_per_epoch_, linear % batches_per_epoch_};
}

std::int64_t Loader::skipped_samples() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return skipped_samples_;
}

}  // namespace alexnet::data
