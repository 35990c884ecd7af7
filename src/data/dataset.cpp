#include "data/dataset.h"

#include <cmath>
#include <exception>

#include "data/random.h"

namespace alexnet::data {

Status Dataset::LoadRgb8(std::size_t i, cv::Mat& rgb) const {
  try {
    ALEXNET_RETURN_IF_ERROR(LoadInto(i, rgb));
  } catch (const std::exception& e) {
    return Status::BadInput(name(i), std::string("loading failed: ") + e.what());
  }
  if (rgb.empty() || rgb.type() != CV_8UC3) {
    return Status::BadInput(name(i), "the dataset gave an empty image or not 8-bit RGB (OpenCV type " +
                                      std::to_string(rgb.type()) + ")");
  }
  return Status::Ok();
}

Result<cv::Mat> Dataset::Load(std::size_t i) const {
  cv::Mat rgb;
  Status status = LoadRgb8(i, rgb);
  if (!status.ok()) return status;
  return rgb;
}

const char* SubsetName(Subset subset) {
  switch (subset) {
    case Subset::kTrain: return "train";
    case Subset::kVal: return "val";
    case Subset::kAll: break;
  }
  return "all";
}

Result<std::vector<std::size_t>> SplitIndices(const std::vector<int>& labels, int num_classes,
                                               const SplitOptions& options) {
  if (!(options.val_fraction >= 0.0 && options.val_fraction < 1.0)) {
    return Status::BadInput("", "validation fraction must be in [0, 1), got " +
                                 std::to_string(options.val_fraction));
  }
  std::vector<std::size_t> out;
  if (options.subset == Subset::kAll || options.val_fraction == 0.0) {
    if (options.subset == Subset::kVal) {
      return Status::BadInput("", "the validation subset is empty: val_fraction is 0");
    }
    out.resize(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) out[i] = i;
    return out;
  }
  std::vector<std::vector<std::size_t>> by_class(static_cast<std::size_t>(num_classes));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      return Status::BadInput("", "label " + std::to_string(labels[i]) + " of sample " +
                                   std::to_string(i) + " is outside 0.." +
                                   std::to_string(num_classes - 1));
    }
    by_class[static_cast<std::size_t>(labels[i])].push_back(i);
  }
  std::vector<char> is_val(labels.size(), 0);
  for (int c = 0; c < num_classes; ++c) {
    auto& members = by_class[static_cast<std::size_t>(c)];
    Rng rng(DeriveSeed(options.seed, static_cast<std::uint64_t>(RngPurpose::kSplit),
                        static_cast<std::uint64_t>(c)));
    for (std::size_t i = members.size(); i > 1; --i) {  // Fisher-Yates
      std::swap(members[i - 1], members[rng.Below(i)]);
    }
    const auto n_val = static_cast<std::size_t>(
        std::llround(static_cast<double>(members.size()) * options.val_fraction));
    for (std::size_t k = 0; k < n_val && k < members.size(); ++k) is_val[members[k]] = 1;
  }
  const char want = options.subset == Subset::kVal ? 1 : 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (is_val[i] == want) out.push_back(i);
  }
  return out;
}

}  // namespace alexnet::data
