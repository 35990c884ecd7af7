#include "data/image_folder.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <utility>

#include "data/random.h"

namespace alexnet::data {
namespace fs = std::filesystem;
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool IsHidden(const std::string& name) { return !name.empty() && name[0] == '.'; }

std::string ExtensionList() {
  std::string s;
  for (const auto& e : ImageExtensions()) s += (s.empty() ? "" : " ") + e;
  return s;
}

// Recursive, sorted, following directory symlinks; (device, inode) pairs cut loops.
struct Walker {
  std::set<std::pair<dev_t, ino_t>> visited;
  std::vector<std::string> files;
  std::size_t ignored = 0;
  SkipLog* mutable_log = nullptr;

  Status walk(const fs::path& dir, bool top) {
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0 && !visited.insert({st.st_dev, st.st_ino}).second) {
      return Status::Ok();  // a symlink loop: already listed
    }
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      if (top) return Status::Io(dir.string(), "cannot list folder: " + ec.message());
      mutable_log->Add(dir.string(), "cannot list folder: " + ec.message());
      return Status::Ok();
    }
    std::vector<fs::path> entries;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      entries.push_back(it->path());
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& p : entries) {
      const std::string name = p.filename().string();
      if (IsHidden(name)) continue;
      if (HasImageExtension(name)) {
        files.push_back(p.string());  // whatever it is; LoadInto() says what is wrong with it
      } else if (fs::is_directory(p, ec)) {
        ALEXNET_RETURN_IF_ERROR(walk(p, false));
      } else {
        ++ignored;
      }
    }
    return Status::Ok();
  }
};

bool IsUint(const std::string& s) {
  return !s.empty() && s.size() < 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What a list file or the class folders name, before the split and the limit.
struct Listing {
  std::vector<std::string> classes;
  std::vector<std::string> paths;
  std::vector<int> labels;  // one per path, indices into classes
  std::size_t ignored_files = 0;
};

// ---- list file ----

// One "path label" line: the path resolved against the list file's folder, the label as
// written, and the line number for messages.
struct ListRow {
  std::string path;
  std::string label;
  int line_number;
};

Result<std::vector<ListRow>> ReadListFile(const std::string& list_file) {
  std::ifstream in(list_file);
  if (!in) {
    std::error_code ec;
    return fs::exists(list_file, ec) ? Status::Io(list_file, "cannot read list file")
                                     : Status::NotFound(list_file, "no such list file");
  }
  const fs::path base = fs::path(list_file).parent_path();
  std::vector<ListRow> rows;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    // The label is the last field, so paths may contain spaces.
    const auto cut = line.find_last_of(" \t");
    if (cut == std::string::npos) {
      return Status::BadInput(list_file + ":" + std::to_string(number),
                           "expected '<path> <label>', got '" + line + "'");
    }
    const fs::path p = Trim(line.substr(0, cut));
    rows.push_back({(p.is_absolute() ? p : base / p).string(), line.substr(cut + 1), number});
  }
  if (rows.empty()) return Status::BadInput(list_file, "list file has no entries");
  return rows;
}

// Integer labels make max + 1 classes. Found by fuzzing (fuzz/fuzz_list_file): a single label
// 8888888 made 8.9 million class names (over 10 s under ASan, hundreds of MB) before any check, so
// a larger label is refused; a million is far above any real dataset (ImageNet-21k: 21,841).
constexpr int kMaxIntegerLabel = 999'999;

// Classes when none are given: "0".."max" for integer labels, else the sorted distinct names.
Result<std::vector<std::string>> ClassesFromLabels(const std::string& list_file, const std::vector<ListRow>& rows,
                                                   bool integer_labels) {
  std::vector<std::string> classes;
  if (integer_labels) {
    int max_label = 0;
    for (const auto& r : rows) {
      const int label = std::stoi(r.label);  // is_uint: at most 9 digits, so it fits
      if (label > kMaxIntegerLabel) {
        return Status::BadInput(list_file + ":" + std::to_string(r.line_number),
                             "label " + r.label + " is too large: integer labels are class indices, at most " +
                                 std::to_string(kMaxIntegerLabel));
      }
      max_label = std::max(max_label, label);
    }
    for (int c = 0; c <= max_label; ++c) classes.push_back(std::to_string(c));
  } else {
    std::set<std::string> names;
    for (const auto& r : rows) names.insert(r.label);
    classes.assign(names.begin(), names.end());
  }
  return classes;
}

// Integer labels are class indices; other labels are class names.
Result<std::vector<int>> LabelIndices(const std::string& list_file, const std::vector<ListRow>& rows,
                                      const std::vector<std::string>& classes, bool integer_labels) {
  // Names only: with integer labels (up to a million classes) the map cost seconds under ASan
  // and is not used (fuzz_list_file timed out on a label of 888888).
  std::map<std::string, int> index;
  for (std::size_t c = 0; !integer_labels && c < classes.size(); ++c) index[classes[c]] = static_cast<int>(c);
  std::vector<int> labels;
  for (const auto& row : rows) {
    int label = -1;
    if (integer_labels) {
      label = std::stoi(row.label);
      if (label >= static_cast<int>(classes.size())) label = -1;
    } else if (auto it = index.find(row.label); it != index.end()) {
      label = it->second;
    }
    if (label < 0) {
      return Status::BadInput(list_file + ":" + std::to_string(row.line_number),
                           "label '" + row.label + "' is not one of the " + std::to_string(classes.size()) +
                               " classes");
    }
    labels.push_back(label);
  }
  return labels;
}

Result<Listing> ListFromListFile(const ImageFolderOptions& options) {
  ALEXNET_ASSIGN_OR_RETURN(std::vector<ListRow> rows, ReadListFile(options.list_file));
  const bool integer_labels =
      std::all_of(rows.begin(), rows.end(), [](const ListRow& r) { return IsUint(r.label); });
  Listing listing;
  if (options.class_names.empty()) {
    ALEXNET_ASSIGN_OR_RETURN(listing.classes, ClassesFromLabels(options.list_file, rows, integer_labels));
  } else {
    listing.classes = options.class_names;
  }
  ALEXNET_ASSIGN_OR_RETURN(listing.labels, LabelIndices(options.list_file, rows, listing.classes, integer_labels));
  for (auto& row : rows) listing.paths.push_back(std::move(row.path));
  return listing;
}

// ---- root/<class>/<image> ----

// The sub-folders of root, sorted. None is an error, which mentions images found directly in
// root (the usual mistake: pointing at a single class folder).
Result<std::vector<std::string>> ListClassFolders(const std::string& root_dir) {
  if (root_dir.empty()) return Status::BadInput("", "no image folder given");
  std::error_code ec;
  const fs::path root(root_dir);
  if (!fs::exists(root, ec)) return Status::NotFound(root_dir, "no such directory");
  if (!fs::is_directory(root, ec)) return Status::BadInput(root_dir, "not a directory");
  std::vector<std::string> folders;
  std::size_t loose_images = 0;
  fs::directory_iterator it(root, ec);
  if (ec) return Status::Io(root_dir, "cannot list folder: " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return Status::Io(root_dir, "cannot list folder: " + ec.message());
    const std::string name = it->path().filename().string();
    if (IsHidden(name)) continue;
    std::error_code dir_ec;
    if (fs::is_directory(it->path(), dir_ec)) folders.push_back(name);
    else if (HasImageExtension(name)) ++loose_images;
  }
  std::sort(folders.begin(), folders.end());
  if (folders.empty()) {
    return Status::BadInput(root_dir, "no class sub-folders (expected <root>/<class>/<image>" +
                                       (loose_images ? "; found " + std::to_string(loose_images) +
                                                           " image files directly in the root)"
                                                     : ")"));
  }
  return folders;
}

// Appends the image files under one class folder (recursive, sorted) with its label.
Status AddClassImages(const fs::path& folder, int label, SkipLog& log, Listing& listing) {
  Walker walker;
  walker.mutable_log = &log;
  ALEXNET_RETURN_IF_ERROR(walker.walk(folder, true));
  if (walker.files.empty()) {
    return Status::BadInput(folder.string(),
                         "class folder contains no image files (extensions: " + ExtensionList() + ")");
  }
  std::sort(walker.files.begin(), walker.files.end());
  listing.ignored_files += walker.ignored;
  for (auto& f : walker.files) {
    listing.paths.push_back(std::move(f));
    listing.labels.push_back(label);
  }
  return Status::Ok();
}

Result<Listing> ListFromClassFolders(const ImageFolderOptions& options, SkipLog& log) {
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<std::string> folders, ListClassFolders(options.root));
  Listing listing;
  listing.classes = options.class_names.empty() ? folders : options.class_names;
  const fs::path root(options.root);
  for (const auto& folder : folders) {
    const auto pos = std::find(listing.classes.begin(), listing.classes.end(), folder);
    if (pos == listing.classes.end()) {
      return Status::BadInput((root / folder).string(), "folder is not one of the " +
                                                         std::to_string(listing.classes.size()) + " given classes");
    }
    const int label = static_cast<int>(pos - listing.classes.begin());
    ALEXNET_RETURN_IF_ERROR(AddClassImages(root / folder, label, log, listing));
  }
  return listing;
}

// ---- subset ----

// Keeps a seeded random `limit` of the indices, in ascending order; random rather than the
// first ones, which would be the first classes only.
void SampleAtRandom(std::size_t limit, std::uint64_t seed, std::vector<std::size_t>& keep) {
  if (limit == 0 || keep.size() <= limit) return;
  Rng rng(DeriveSeed(seed, static_cast<std::uint64_t>(RngPurpose::kSample)));
  for (std::size_t i = 0; i < limit; ++i) std::swap(keep[i], keep[i + rng.Below(keep.size() - i)]);
  keep.resize(limit);
  std::sort(keep.begin(), keep.end());
}

// Indices into the listing of the split's subset, sampled down to options.limit.
Result<std::vector<std::size_t>> ChooseSubset(const Listing& listing, const ImageFolderOptions& options,
                                              const std::string& origin) {
  auto chosen = SplitIndices(listing.labels, static_cast<int>(listing.classes.size()), options.split);
  if (!chosen.ok()) return Status::Error(chosen.status().code(), origin, chosen.status().reason());
  std::vector<std::size_t> keep = std::move(*chosen);
  SampleAtRandom(options.limit, options.split.seed, keep);
  return keep;
}

}  // namespace

const std::vector<std::string>& ImageExtensions() {
  static const std::vector<std::string> kExtensions = {
      ".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".pbm", ".pgm",
      ".ppm", ".pnm",  ".pam", ".pfm", ".sr",  ".ras", ".hdr", ".pic",  ".exr",  ".jp2"};
  return kExtensions;
}

bool HasImageExtension(const std::string& filename) {
  const auto dot = filename.rfind('.');
  if (dot == std::string::npos || dot == 0) return false;
  const std::string ext = Lower(filename.substr(dot));
  const auto& all = ImageExtensions();
  return std::find(all.begin(), all.end(), ext) != all.end();
}

Status ImageFolderDataset::LoadInto(std::size_t i, cv::Mat& rgb) const {
  // A damaged file that still decodes (and is not refused by strict_jpeg) is used; the log says
  // so once per file, however many epochs and threads meet it.
  DecodeWarnings warnings;
  ALEXNET_RETURN_IF_ERROR(DecodeImageFile(samples_[i].path, decode_, rgb, &warnings));
  if (warnings.any()) skip_log().Warn(samples_[i].path, warnings.summary() + "; used anyway");
  return Status::Ok();
}

Result<std::shared_ptr<ImageFolderDataset>> ImageFolderDataset::Open(
    const ImageFolderOptions& options) {
  std::shared_ptr<ImageFolderDataset> ds(new ImageFolderDataset());
  ds->decode_ = options.decode;
  const bool from_list = !options.list_file.empty();
  const std::string& origin = from_list ? options.list_file : options.root;
  ALEXNET_ASSIGN_OR_RETURN(Listing listing, from_list ? ListFromListFile(options)
                                                      : ListFromClassFolders(options, ds->skip_log()));
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<std::size_t> keep, ChooseSubset(listing, options, origin));
  for (auto i : keep) ds->samples_.push_back({std::move(listing.paths[i]), listing.labels[i]});
  if (ds->samples_.empty()) {
    return Status::BadInput(origin, std::string("the ") + SubsetName(options.split.subset) +
                                     " subset has no images");
  }
  ds->classes_ = std::move(listing.classes);
  ds->ignored_files_ = listing.ignored_files;
  ds->description_ = "image folder " + origin + " (" + SubsetName(options.split.subset) + ", " +
                     std::to_string(ds->samples_.size()) + " of " + std::to_string(listing.paths.size()) +
                     " images, " + std::to_string(ds->classes_.size()) + " classes)";
  return ds;
}

}  // namespace alexnet::data
