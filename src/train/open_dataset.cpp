#include "train/open_dataset.h"

#include <cstdint>

#include "data/fashion_mnist.h"
#include "data/image_folder.h"

namespace alexnet::train {

const char* SplitName(Split split) { return NameIn(kSplitNames, split); }

Result<std::shared_ptr<const data::Dataset>> OpenDataset(const DataSpec& spec, Split split) {
  data::SplitOptions so;
  so.seed = spec.split_seed;
  so.val_fraction = split == Split::kTest ? 0.0 : spec.val_fraction;
  so.subset = split == Split::kVal    ? data::Subset::kVal
              : split == Split::kTest ? data::Subset::kAll
                                      : data::Subset::kTrain;
  const int64_t limit = split == Split::kTrain ? spec.train_limit
                        : split == Split::kVal ? spec.val_limit
                                               : spec.test_limit;
  if (spec.source == "fashion-mnist") {
    data::FashionMnistOptions o;
    o.dir = spec.fashion_dir;
    o.train = split != Split::kTest;
    o.split = so;
    o.limit = static_cast<size_t>(limit);
    auto ds = data::FashionMnistDataset::Open(o);
    if (!ds.ok()) return ds.status();
    return std::shared_ptr<const data::Dataset>(ds.value());
  }
  data::ImageFolderOptions o;
  o.root = spec.source;
  o.list_file = spec.list_file;
  o.split = so;
  if (spec.max_pixels > 0) o.decode.max_pixels = static_cast<uint64_t>(spec.max_pixels);
  o.decode.strict_jpeg = spec.strict_decode;
  if (split == Split::kTest) {
    // An image folder has no separate test files: "test" means the validation split.
    o.split.subset = data::Subset::kVal;
    o.split.val_fraction = spec.val_fraction;
  }
  o.limit = static_cast<size_t>(limit);
  auto ds = data::ImageFolderDataset::Open(o);
  if (!ds.ok()) return ds.status();
  return std::shared_ptr<const data::Dataset>(ds.value());
}

}  // namespace alexnet::train
