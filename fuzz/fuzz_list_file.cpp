// fuzz_list_file: ImageFolderDataset::open (data/image_folder.h) with an arbitrary list file of
// "path label" lines: line splitting, integer or named labels, classes, the split and limit.
// Opening lists the files without reading them, so no image is needed.
// Seeds: fuzz/corpus/fuzz_list_file (list files as the image-folder tests write them).
#include <cstddef>
#include <cstdint>

#include "data/image_folder.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  alexnet::data::ImageFolderOptions options;
  options.list_file = alexnet::fuzz::WriteScratchFile("list.txt", data, size);
  options.split.val_fraction = 0.25;
  const auto dataset = alexnet::data::ImageFolderDataset::Open(options);
  if (dataset.ok()) {
    const auto& ds = **dataset;
    for (std::size_t i = 0; i < ds.size(); ++i) {
      if (ds.label(i) < 0 || static_cast<std::size_t>(ds.label(i)) >= ds.class_names().size()) __builtin_trap();
    }
  }
  return 0;
}
