// bench_input: images/s of the input pipeline (threaded loader) against a single-threaded
// decode+preprocess loop, on an image folder or Fashion-MNIST.
//
//   bench_input --make-folder /tmp/jpeg500            # 500 synthetic 500x375 JPEGs (5 classes)
//   bench_input --folder /tmp/jpeg500 --workers 2
//   bench_input --fashion-mnist --workers 2
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "data/fashion_mnist.h"
#include "data/image_folder.h"
#include "data/input_benchmark.h"
#include "data/synthetic.h"

using namespace alexnet::data;
using alexnet::Status;

int main(int argc, char** argv) {
  CLI::App app{"Input pipeline throughput (images/s): threaded loader vs single-threaded loop"};
  std::string folder, make_folder, fmnist_dir = kFashionMnistDir;
  bool fashion_mnist = false, no_augment = false, no_baseline = false;
  int workers = 2, batch_size = 128, resize = 256, crop = 227, queue_depth = 0;
  int count = 500, classes = 5, width = 500, height = 375;
  long long images = 2000, warmup = 256;
  app.add_option("--folder", folder, "image folder root/<class>/<image>");
  app.add_flag("--fashion-mnist", fashion_mnist, "use Fashion-MNIST (train split)");
  app.add_option("--fashion-mnist-dir", fmnist_dir, "Fashion-MNIST idx files")->capture_default_str();
  app.add_option("--workers", workers, "loader threads")->capture_default_str();
  app.add_option("--batch-size", batch_size)->capture_default_str();
  app.add_option("--queue-depth", queue_depth, "batches prepared ahead (0: 2 x workers)");
  app.add_option("--resize", resize, "S")->capture_default_str();
  app.add_option("--crop", crop, "C")->capture_default_str();
  app.add_option("--images", images, "timed images")->capture_default_str();
  app.add_option("--warmup", warmup, "images before timing")->capture_default_str();
  app.add_flag("--no-augment", no_augment, "centre crop only (evaluation path)");
  app.add_flag("--no-baseline", no_baseline, "skip the single-threaded loop");
  app.add_option("--make-folder", make_folder, "write a synthetic JPEG folder and exit");
  app.add_option("--count", count, "with --make-folder: images")->capture_default_str();
  app.add_option("--classes", classes, "with --make-folder: classes")->capture_default_str();
  app.add_option("--width", width, "with --make-folder")->capture_default_str();
  app.add_option("--height", height, "with --make-folder")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!make_folder.empty()) {
    SyntheticFolderOptions so;
    so.root = make_folder;
    so.classes = classes;
    so.images_per_class = (count + classes - 1) / classes;
    so.width = width;
    so.height = height;
    const Status st = WriteSyntheticImageFolder(so);
    if (!st.ok()) {
      std::fprintf(stderr, "bench_input: %s\n", st.message().c_str());
      return 1;
    }
    std::printf("wrote %d synthetic %dx%d JPEGs in %d classes to %s\n",
                so.classes * so.images_per_class, width, height, classes, make_folder.c_str());
    return 0;
  }

  std::shared_ptr<const Dataset> dataset;
  if (fashion_mnist) {
    FashionMnistOptions fo;
    fo.dir = fmnist_dir;
    auto ds = FashionMnistDataset::Open(fo);
    if (!ds.ok()) {
      std::fprintf(stderr, "bench_input: %s\n", ds.status().message().c_str());
      return 1;
    }
    dataset = *ds;
  } else if (!folder.empty()) {
    ImageFolderOptions io;
    io.root = folder;
    auto ds = ImageFolderDataset::Open(io);
    if (!ds.ok()) {
      std::fprintf(stderr, "bench_input: %s\n", ds.status().message().c_str());
      return 1;
    }
    dataset = *ds;
  } else {
    std::fprintf(stderr, "bench_input: give --folder DIR or --fashion-mnist (see --help)\n");
    return 2;
  }

  InputBenchmarkOptions bo;
  bo.loader.workers = workers;
  bo.loader.batch_size = batch_size;
  bo.loader.queue_depth = queue_depth > 0 ? queue_depth : 2 * workers;
  bo.loader.preprocess.resize = resize;
  bo.loader.preprocess.crop = crop;
  bo.loader.augment = !no_augment;
  bo.images = images;
  bo.warmup_images = warmup;
  bo.baseline = !no_baseline;
  std::printf("input benchmark: %s\n", dataset->description().c_str());
  std::printf("  S=%d C=%d batch=%d workers=%d queue=%d %s\n", resize, crop, batch_size, workers,
              bo.loader.queue_depth,
              no_augment ? "centre crop" : "random crop + flip + PCA colour");
  auto r = RunInputBenchmark(dataset, bo);
  if (!r.ok()) {
    std::fprintf(stderr, "bench_input: %s\n", r.status().message().c_str());
    return 1;
  }
  if (bo.baseline) {
    std::printf("  baseline (single-threaded loop): %8.1f images/s  (%lld images in %.2f s, %.2f cores)\n",
                r->baseline_images_per_second, static_cast<long long>(r->baseline_images),
                r->baseline_seconds, r->baseline_cores_used);
  }
  std::printf("  loader, %d worker%s:              %8.1f images/s  (%lld images in %.2f s, %.2f cores)\n",
              workers, workers == 1 ? " " : "s", r->images_per_second,
              static_cast<long long>(r->images), r->seconds, r->loader_cores_used);
  if (bo.baseline) std::printf("  ratio loader / baseline: %.2fx\n", r->speedup);
  // Throughput per CPU-second does not depend on how many cores other processes leave us.
  std::printf("  per CPU-second: loader %.1f, baseline %.1f images\n",
              r->images_per_second / std::max(r->loader_cores_used, 1e-9),
              bo.baseline ? r->baseline_images_per_second / std::max(r->baseline_cores_used, 1e-9) : 0.0);
  if (r->skipped) std::printf("  skipped samples: %lld\n", static_cast<long long>(r->skipped));
  return 0;
}
