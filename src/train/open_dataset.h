// The datasets a run's DataSpec (config.h) names: its training, validation or test split, read
// from Fashion-MNIST's idx files or from an image folder or list file. No TensorFlow.
#pragma once

#include <memory>

#include "data/dataset.h"
#include "train/config.h"
#include "util/enum_names.h"
#include "util/status.h"

namespace alexnet::train {

// The datasets a config names. Errors name the folder/file and the reason.
enum class Split { kTrain, kVal, kTest };
inline constexpr EnumNames<Split, 3> kSplitNames = {{{Split::kTrain, "train"}, {Split::kVal, "val"}, {Split::kTest, "test"}}};
const char* SplitName(Split split);  // "train", "val", "test"
Result<std::shared_ptr<const data::Dataset>> OpenDataset(const DataSpec& spec, Split split);

}  // namespace alexnet::train
