// The threaded loader: shapes, epochs as permutations, determinism across worker counts,
// resume, bounded prefetch, clean shutdown mid-epoch.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <stdexcept>

#include "data/loader.h"
#include "data/ten_crop.h"
#include "test_util.h"

namespace alexnet::data {
namespace {
using namespace testing;

std::shared_ptr<const ColorStats> stats_for(const Dataset& ds, int size) {
  ColorStatsOptions o;
  o.size = size;
  auto s = ComputeColorStats(ds, o);
  EXPECT_TRUE(s.ok());
  return std::make_shared<const ColorStats>(*s);
}

LoaderOptions small_options() {
  LoaderOptions o;
  o.batch_size = 8;
  o.workers = 2;
  o.seed = 123;
  o.preprocess = {40, 32, MeanMode::kPerChannel};
  return o;
}

std::vector<Batch> run(std::shared_ptr<const Dataset> ds, const LoaderOptions& o) {
  auto loader = Loader::Create(ds, o);
  EXPECT_TRUE(loader.ok()) << loader.status().message();
  std::vector<Batch> out;
  Batch b;
  while ((*loader)->Next(b)) out.push_back(b);
  EXPECT_TRUE((*loader)->status().ok()) << (*loader)->status().message();
  return out;
}

TEST(Loader, ShapesLabelsAndLastBatch) {
  auto ds = make_memory_dataset(21, 50, 40);
  LoaderOptions o = small_options();
  o.stats = stats_for(*ds, 40);
  const auto batches = run(ds, o);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].size, 8);
  EXPECT_EQ(batches[2].size, 5);
  EXPECT_TRUE(batches[2].last_in_epoch);
  for (const auto& b : batches) {
    EXPECT_EQ(b.height, 32);
    EXPECT_EQ(b.width, 32);
    EXPECT_EQ(b.channels, 3);
    EXPECT_EQ(b.images.size(), static_cast<std::size_t>(b.size) * 32 * 32 * 3);
    EXPECT_EQ(b.labels.size(), static_cast<std::size_t>(b.size));
    for (int k = 0; k < b.size; ++k) EXPECT_EQ(b.labels[k], ds->label(static_cast<std::size_t>(b.indices[k])));
    for (float v : b.images) {  // 0..255 minus a mean in 0..255, plus a small colour shift
      ASSERT_GT(v, -300.0f);
      ASSERT_LT(v, 300.0f);
    }
  }
  o.drop_last = true;
  EXPECT_EQ(run(ds, o).size(), 2u);
}

TEST(Loader, EachEpochIsAFreshPermutation) {
  auto ds = make_memory_dataset(20, 40, 40);
  LoaderOptions o = small_options();
  o.augmentation.pca_color = false;
  o.preprocess.mean = MeanMode::kNone;
  o.epochs = 2;
  const auto batches = run(ds, o);
  std::vector<std::int64_t> e0, e1;
  for (const auto& b : batches) {
    auto& epoch = b.epoch == 0 ? e0 : e1;
    epoch.insert(epoch.end(), b.indices.begin(), b.indices.end());
  }
  ASSERT_EQ(e0.size(), 20u);
  ASSERT_EQ(e1.size(), 20u);
  EXPECT_EQ(std::set<std::int64_t>(e0.begin(), e0.end()).size(), 20u);
  EXPECT_EQ(std::set<std::int64_t>(e1.begin(), e1.end()).size(), 20u);
  EXPECT_NE(e0, e1);
  o.shuffle = false;
  o.epochs = 1;
  const auto ordered = run(ds, o);
  for (int k = 0; k < 8; ++k) EXPECT_EQ(ordered[1].indices[k], 8 + k);
}

void expect_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].epoch, b[i].epoch);
    EXPECT_EQ(a[i].index, b[i].index);
    EXPECT_EQ(a[i].indices, b[i].indices) << "batch " << i;
    EXPECT_EQ(a[i].labels, b[i].labels);
    EXPECT_TRUE(a[i].images == b[i].images) << "batch " << i << " differs in its pixels";
  }
}

TEST(Loader, SameBatchesWhateverTheWorkerCount) {
  auto ds = make_memory_dataset(30, 48, 40);
  LoaderOptions o = small_options();
  o.stats = stats_for(*ds, 40);
  o.epochs = 2;
  o.workers = 1;
  const auto one = run(ds, o);
  o.workers = 3;
  o.queue_depth = 6;
  const auto three = run(ds, o);
  expect_same(one, three);
  o.seed = 124;
  const auto other = run(ds, o);
  EXPECT_NE(one[0].indices, other[0].indices);
}

// Data parallelism: the replicas' shards of each global batch, put together in task order, are
// the batch of one loader (same samples, crops and bytes), also for the smaller last batch
// (21 samples, batch 8, 3 shards: the last batch of 5 splits 1 + 2 + 2).
TEST(Loader, ShardsTogetherAreTheWholeBatch) {
  auto ds = make_memory_dataset(21, 50, 40);
  LoaderOptions o = small_options();
  o.stats = stats_for(*ds, 40);
  o.epochs = 2;
  const auto whole = run(ds, o);
  std::vector<std::vector<Batch>> shards;
  for (int s = 0; s < 3; ++s) {
    o.shard = s;
    o.shards = 3;
    shards.push_back(run(ds, o));
    ASSERT_EQ(shards.back().size(), whole.size());  // every replica takes every step
  }
  for (size_t i = 0; i < whole.size(); ++i) {
    std::vector<std::int64_t> indices;
    std::vector<float> images;
    for (const auto& shard : shards) {
      EXPECT_EQ(shard[i].last_in_epoch, whole[i].last_in_epoch);
      EXPECT_LE(std::abs(shard[i].size - whole[i].size / 3), 1);
      indices.insert(indices.end(), shard[i].indices.begin(), shard[i].indices.end());
      images.insert(images.end(), shard[i].images.begin(), shard[i].images.end());
    }
    EXPECT_EQ(indices, whole[i].indices) << "batch " << i;
    EXPECT_EQ(images, whole[i].images) << "batch " << i;
  }
  o.shard = 3;
  EXPECT_FALSE(Loader::Create(ds, o).ok());
}

TEST(Loader, ResumeContinuesAtTheSamePlace) {
  auto ds = make_memory_dataset(26, 44, 40);
  LoaderOptions o = small_options();
  o.stats = stats_for(*ds, 40);
  o.epochs = 3;  // 4 batches per epoch
  const auto full = run(ds, o);
  ASSERT_EQ(full.size(), 12u);

  // Stop after 6 batches, as a training run would, and note the position.
  LoaderPosition pos;
  {
    auto loader = Loader::Create(ds, o);
    ASSERT_TRUE(loader.ok());
    EXPECT_EQ((*loader)->batches_per_epoch(), 4);
    Batch b;
    for (int i = 0; i < 6; ++i) ASSERT_TRUE((*loader)->Next(b));
    pos = (*loader)->position();
  }
  EXPECT_EQ(pos.epoch, 1);
  EXPECT_EQ(pos.batch, 2);
  o.start_epoch = pos.epoch;
  o.start_batch = pos.batch;
  const auto resumed = run(ds, o);
  expect_same(resumed, std::vector<Batch>(full.begin() + 6, full.end()));

  o.start_batch = 4;
  EXPECT_FALSE(Loader::Create(ds, o).ok());
}

TEST(Loader, PrefetchIsBoundedByTheQueueDepth) {
  auto ds = make_memory_dataset(400, 16, 16);
  LoaderOptions o = small_options();
  o.preprocess = {16, 16, MeanMode::kNone};
  o.augmentation.pca_color = false;
  o.batch_size = 4;
  o.queue_depth = 3;
  o.epochs = 0;
  auto loader = Loader::Create(ds, o);
  ASSERT_TRUE(loader.ok());
  Batch b;
  ASSERT_TRUE((*loader)->Next(b));
  // The workers fill ahead (wait for it, however loaded the machine is) ...
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ds->loads.load() < (1 + 3) * 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // ... but with one batch taken, at most queue_depth more are filled or ready.
  EXPECT_EQ(ds->loads.load(), (1 + 3) * 4);
}

// Loads that wait (like reads from a slow disk) overlap across workers: nothing in the loader
// serialises them. Sleeping needs no CPU, so this holds on a loaded machine too.
TEST(Loader, WorkersLoadConcurrently) {
  auto ds = make_memory_dataset(64, 16, 16);
  ds->delay_ms = 5;
  LoaderOptions o = small_options();
  o.preprocess = {16, 16, MeanMode::kNone};
  o.augmentation.pca_color = false;
  auto seconds = [&](int workers) {
    o.workers = workers;
    o.queue_depth = 2 * workers;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(run(ds, o).size(), 8u);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const double one = seconds(1), four = seconds(4);  // 64 x 5 ms = 0.32 s with one worker
  EXPECT_LT(four, one / 2.5) << "1 worker: " << one << " s, 4 workers: " << four << " s";
}

TEST(Loader, DestroyingMidEpochIsQuick) {
  auto ds = make_memory_dataset(2000, 16, 16);
  ds->delay_ms = 2;
  LoaderOptions o = small_options();
  o.preprocess = {16, 16, MeanMode::kNone};
  o.augmentation.pca_color = false;
  o.batch_size = 64;
  o.workers = 3;
  for (int taken : {0, 1, 3}) {
    auto loader = Loader::Create(ds, o);
    ASSERT_TRUE(loader.ok());
    Batch b;
    for (int i = 0; i < taken; ++i) ASSERT_TRUE((*loader)->Next(b));
    const auto t0 = std::chrono::steady_clock::now();
    loader->reset();  // workers are mid-batch or waiting for room
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(ms, 500.0) << "after taking " << taken << " batches";
  }
}

TEST(Loader, EvaluationModesMatchTheDirectFunctions) {
  auto ds = make_memory_dataset(5, 60, 45);
  LoaderOptions o = small_options();
  o.stats = stats_for(*ds, 40);
  o.shuffle = false;
  o.augment = false;
  auto norm = MakeNormalization(o.stats.get(), o.preprocess);
  ASSERT_TRUE(norm.ok());
  const auto centre = run(ds, o);
  ASSERT_EQ(centre.size(), 1u);
  std::vector<float> expected(32 * 32 * 3);
  for (int k = 0; k < 5; ++k) {
    ASSERT_TRUE(PreprocessEval(*ds->Load(static_cast<std::size_t>(k)), o.preprocess, *norm, expected.data()).ok());
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), centre[0].images.begin() + k * 32 * 32 * 3));
  }
  o.ten_crop = true;
  const auto ten = run(ds, o);
  EXPECT_EQ(ten[0].views, 10);
  ASSERT_EQ(ten[0].images.size(), 5u * 10 * 32 * 32 * 3);
  std::vector<float> views(10 * 32 * 32 * 3);
  ASSERT_TRUE(PreprocessTenCrops(*ds->Load(2), o.preprocess, *norm, views.data()).ok());
  EXPECT_TRUE(std::equal(views.begin(), views.end(), ten[0].images.begin() + 2 * views.size()));
}

TEST(Loader, SkippedSamplesMakeTheBatchSmaller) {
  auto ds = make_memory_dataset(16, 20, 20);
  ds->failing = {0, 1, 2, 3, 4, 5, 6, 7, 9};  // the whole first batch, and one of the second
  ds->skip_log().SetPrint(false);
  LoaderOptions o = small_options();
  o.preprocess = {20, 16, MeanMode::kNone};
  o.augmentation.pca_color = false;
  o.shuffle = false;
  auto loader = Loader::Create(ds, o);
  ASSERT_TRUE(loader.ok());
  Batch b;
  ASSERT_TRUE((*loader)->Next(b));  // the empty first batch is not handed out
  EXPECT_EQ(b.index, 1);
  EXPECT_EQ(b.size, 7);
  EXPECT_EQ(b.skipped, 1 + 8);  // its own, and those of the batch not handed out
  EXPECT_EQ(b.indices[0], 8);
  EXPECT_EQ(b.indices[1], 10);
  EXPECT_FALSE((*loader)->Next(b));
  EXPECT_TRUE((*loader)->status().ok());
  EXPECT_EQ((*loader)->skipped_samples(), 9);
  EXPECT_EQ(ds->skip_log().count(), 9u);
}

// A Dataset implementation that misbehaves (wrong image type, exceptions) costs only the sample.
class SloppyDataset : public MemoryDataset {
 public:
  using MemoryDataset::MemoryDataset;
  Status LoadInto(std::size_t i, cv::Mat& rgb) const override {
    if (i == 1) {
      rgb = cv::Mat(10, 10, CV_8UC1, cv::Scalar(3));  // grey, "ok"
      return Status::Ok();
    }
    if (i == 2) throw std::runtime_error("boom");
    if (i == 3) {
      rgb.release();  // empty, "ok"
      return Status::Ok();
    }
    return MemoryDataset::LoadInto(i, rgb);
  }
};

TEST(Loader, MisbehavingDatasetCostsOnlyTheSample) {
  std::vector<cv::Mat> images(6, pattern_image(20, 20));
  auto ds = std::make_shared<SloppyDataset>(images, std::vector<int>(6, 0), 1);
  ds->skip_log().SetPrint(false);
  LoaderOptions o = small_options();
  o.preprocess = {20, 16, MeanMode::kNone};
  o.augmentation.pca_color = false;
  const auto batches = run(ds, o);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].size, 3);
  EXPECT_EQ(ds->skip_log().count(), 3u);
  const auto files = ds->skip_log().files();
  bool saw_boom = false;
  for (const auto& f : files) saw_boom |= f.reason.find("boom") != std::string::npos;
  EXPECT_TRUE(saw_boom);
}

TEST(Loader, InvalidOptionsAreErrors) {
  auto ds = make_memory_dataset(4, 20, 20);
  LoaderOptions o = small_options();
  auto r = Loader::Create(ds, o);  // PCA and mean without statistics
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().reason().find("colour statistics"), std::string::npos);
  o.preprocess.mean = MeanMode::kNone;
  EXPECT_FALSE(Loader::Create(ds, o).ok());  // PCA still needs them
  o.augmentation.pca_color = false;
  EXPECT_TRUE(Loader::Create(ds, o).ok());
  o.batch_size = 0;
  EXPECT_FALSE(Loader::Create(ds, o).ok());
  o.batch_size = 8;
  o.drop_last = true;
  EXPECT_FALSE(Loader::Create(ds, o).ok());
  EXPECT_FALSE(Loader::Create(nullptr, o).ok());
}

}  // namespace
}  // namespace alexnet::data
