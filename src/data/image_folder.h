// A dataset of image files: root/<class>/<image> folders, or a list file of "path label" lines.
//
// Conventions (as torchvision ImageFolder and Keras image_dataset_from_directory):
//  - classes are the sub-folders of root in sorted (byte) order; class i is the i-th name;
//  - inside a class folder, files with an image extension (case-insensitive: see
//    ImageExtensions()) are taken recursively, following symbolic links (loops are cut), in
//    sorted path order; other files are ignored and counted; names starting with '.' are
//    skipped (.ipynb_checkpoints, macOS ._ files);
//  - an entry named like an image is listed even if it is a directory, a dangling symlink or
//    unreadable: loading it fails with the path and the reason, and the loader skips it;
//  - a missing root, a root without class folders, or a class folder without image files is an
//    error when the dataset is opened.
// List file: one "path label" per line; blank lines and lines starting with '#' are ignored;
// the label is the last whitespace-separated field, so paths may contain spaces; relative paths
// are relative to the list file's folder. If every label is a non-negative integer, labels are
// class indices (class names "0".."max", or options.class_names); otherwise every label is a
// class name (classes: options.class_names, or the sorted distinct names).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/decode.h"

namespace alexnet::data {

struct ImageFolderOptions {
  std::string root;       // root/<class>/<image>; unused when list_file is set
  std::string list_file;  // optional "path label" list instead of folders
  // Optional: fixes the classes and their indices (e.g. the training run's, for evaluating on a
  // folder where some classes are missing). Folders or names not in it are an error.
  std::vector<std::string> class_names;
  SplitOptions split;
  // Keep only a random sample of this many images after the split (0 = all), drawn with
  // split.seed and kept in sorted order. Random rather than the first N, which would be the
  // first classes only.
  std::size_t limit = 0;
  DecodeOptions decode;
};

class ImageFolderDataset final : public Dataset {
 public:
  static Result<std::shared_ptr<ImageFolderDataset>> Open(const ImageFolderOptions& options);

  std::size_t size() const override { return samples_.size(); }
  int label(std::size_t i) const override { return samples_[i].label; }
  const std::vector<std::string>& class_names() const override { return classes_; }
  Status LoadInto(std::size_t i, cv::Mat& rgb) const override;
  std::string name(std::size_t i) const override { return samples_[i].path; }
  std::string description() const override { return description_; }

  const std::string& path(std::size_t i) const { return samples_[i].path; }
  std::size_t ignored_files() const { return ignored_files_; }  // non-image files seen

 private:
  struct Sample {
    std::string path;
    int label;
  };
  ImageFolderDataset() = default;

  std::vector<Sample> samples_;
  std::vector<std::string> classes_;
  std::string description_;
  DecodeOptions decode_;
  std::size_t ignored_files_ = 0;
};

// Lower-case extensions with the dot: .jpg .jpeg .jpe .png .bmp .dib .tif .tiff .webp .pbm
// .pgm .ppm .pnm .pam .pfm .sr .ras .hdr .pic .exr .jp2.
const std::vector<std::string>& ImageExtensions();
bool HasImageExtension(const std::string& filename);

}  // namespace alexnet::data
