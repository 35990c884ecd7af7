// Fashion-MNIST (Zalando): 60,000 training and 10,000 test images, 28 x 28 grey, 10 classes,
// read from the idx files (gzip'd or plain) of Debian's dataset-fashion-mnist package.
//
// The images go through the same pipeline as photos: LoadInto() gives 28 x 28 RGB8 (grey
// replicated to 3 channels) and the pipeline's resize brings it to S x S (INTER_LINEAR, since
// it enlarges). Any idx pair with N x H x W uint8 images and uint8 labels 0..9 works (MNIST too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace alexnet::data {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct FashionMnistOptions {
  std::string dir = kFashionMnistDir;
  bool train = true;        // train-*-idx*-ubyte(.gz) or t10k-*
  SplitOptions split;       // optional seeded validation split of the chosen file pair
  std::size_t limit = 0;    // keep only the first `limit` samples after the split (0 = all)
};

// T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.
const std::vector<std::string>& FashionMnistClassNames();

class FashionMnistDataset final : public Dataset {
 public:
  static Result<std::shared_ptr<FashionMnistDataset>> Open(const FashionMnistOptions& options);

  std::size_t size() const override { return index_.size(); }
  int label(std::size_t i) const override { return labels_[index_[i]]; }
  const std::vector<std::string>& class_names() const override;
  Status LoadInto(std::size_t i, cv::Mat& rgb) const override;
  std::string name(std::size_t i) const override;
  std::string description() const override { return description_; }

  int height() const { return height_; }
  int width() const { return width_; }
  const std::uint8_t* grey(std::size_t i) const;  // height() * width() bytes

 private:
  FashionMnistDataset() = default;
  std::string images_path_;
  std::string description_;
  int height_ = 0, width_ = 0;
  std::vector<std::uint8_t> pixels_;  // all images of the file
  std::vector<int> labels_;           // all labels of the file
  std::vector<std::size_t> index_;    // the chosen samples
};

}  // namespace alexnet::data
