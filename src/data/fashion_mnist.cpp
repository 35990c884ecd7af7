#include "data/fashion_mnist.h"

#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "data/idx.h"

namespace alexnet::data {
namespace {

// Prefers the .gz name, as shipped; falls back to an unpacked file.
std::string FindFile(const std::string& dir, const std::string& stem) {
  std::error_code ec;
  const std::string gz = dir + "/" + stem + ".gz";
  if (std::filesystem::exists(gz, ec)) return gz;
  const std::string plain = dir + "/" + stem;
  if (std::filesystem::exists(plain, ec)) return plain;
  return gz;  // the error message names the expected file
}

}  // namespace

const std::vector<std::string>& FashionMnistClassNames() {
  static const std::vector<std::string> kNames = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                  "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};
  return kNames;
}

const std::vector<std::string>& FashionMnistDataset::class_names() const {
  return FashionMnistClassNames();
}

Result<std::shared_ptr<FashionMnistDataset>> FashionMnistDataset::Open(
    const FashionMnistOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(options.dir, ec)) {
    return Status::NotFound(options.dir, "no such directory (install Fashion-MNIST with: "
                                      "apt-get install dataset-fashion-mnist)");
  }
  const std::string prefix = options.train ? "train" : "t10k";
  const std::string images_path = FindFile(options.dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = FindFile(options.dir, prefix + "-labels-idx1-ubyte");

  auto images = ReadIdx(images_path);
  if (!images.ok()) return images.status();
  auto labels = ReadIdx(labels_path);
  if (!labels.ok()) return labels.status();
  if (images->type != IdxType::kUint8 || images->dims.size() != 3) {
    return Status::BadInput(images_path, "expected uint8 images of shape N x H x W");
  }
  if (labels->type != IdxType::kUint8 || labels->dims.size() != 1) {
    return Status::BadInput(labels_path, "expected uint8 labels of shape N");
  }
  if (images->dims[0] != labels->dims[0]) {
    return Status::BadInput(labels_path, std::to_string(labels->dims[0]) + " labels for " +
                                          std::to_string(images->dims[0]) + " images in " +
                                          images_path);
  }
  if (images->dims[1] == 0 || images->dims[2] == 0 || images->dims[1] > 4096 ||
      images->dims[2] > 4096) {
    return Status::BadInput(images_path, "implausible image size");
  }

  std::shared_ptr<FashionMnistDataset> ds(new FashionMnistDataset());
  ds->images_path_ = images_path;
  ds->height_ = static_cast<int>(images->dims[1]);
  ds->width_ = static_cast<int>(images->dims[2]);
  ds->pixels_ = std::move(images->data);
  const std::size_t n = labels->dims[0];
  ds->labels_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int l = labels->data[i];
    if (l >= 10) {
      return Status::BadInput(labels_path, "label " + std::to_string(l) + " of sample " +
                                            std::to_string(i) + " is not in 0..9");
    }
    ds->labels_[i] = l;
  }
  auto chosen = SplitIndices(ds->labels_, 10, options.split);
  if (!chosen.ok()) return Status::Error(chosen.status().code(), images_path, chosen.status().reason());
  ds->index_ = std::move(*chosen);
  if (options.limit > 0 && ds->index_.size() > options.limit) ds->index_.resize(options.limit);
  if (ds->index_.empty()) return Status::BadInput(images_path, "the chosen subset is empty");
  ds->description_ = "Fashion-MNIST " + prefix + " (" + SubsetName(options.split.subset) + ", " +
                     std::to_string(ds->index_.size()) + " of " + std::to_string(n) +
                     " images) from " + options.dir;
  return ds;
}

const std::uint8_t* FashionMnistDataset::grey(std::size_t i) const {
  return pixels_.data() + index_[i] * static_cast<std::size_t>(height_) * width_;
}

Status FashionMnistDataset::LoadInto(std::size_t i, cv::Mat& rgb) const {
  const cv::Mat grey_image(height_, width_, CV_8UC1, const_cast<std::uint8_t*>(grey(i)));
  cv::cvtColor(grey_image, rgb, cv::COLOR_GRAY2RGB);
  return Status::Ok();
}

std::string FashionMnistDataset::name(std::size_t i) const {
  return images_path_ + "#" + std::to_string(index_[i]);
}

}  // namespace alexnet::data
