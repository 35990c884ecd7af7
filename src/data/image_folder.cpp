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

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool is_hidden(const std::string& name) { return !name.empty() && name[0] == '.'; }

std::string extension_list() {
  std::string s;
  for (const auto& e : image_extensions()) s += (s.empty() ? "" : " ") + e;
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
      if (top) return Status::Error(dir.string(), "cannot list folder: " + ec.message());
      mutable_log->add(dir.string(), "cannot list folder: " + ec.message());
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
      if (is_hidden(name)) continue;
      if (has_image_extension(name)) {
        files.push_back(p.string());  // whatever it is; load_into() says what is wrong with it
      } else if (fs::is_directory(p, ec)) {
        ALEXNET_DATA_RETURN_IF_ERROR(walk(p, false));
      } else {
        ++ignored;
      }
    }
    return Status::Ok();
  }
};

bool is_uint(const std::string& s) {
  return !s.empty() && s.size() < 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

const std::vector<std::string>& image_extensions() {
  static const std::vector<std::string> kExtensions = {
      ".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".pbm", ".pgm",
      ".ppm", ".pnm",  ".pam", ".pfm", ".sr",  ".ras", ".hdr", ".pic",  ".exr",  ".jp2"};
  return kExtensions;
}

bool has_image_extension(const std::string& filename) {
  const auto dot = filename.rfind('.');
  if (dot == std::string::npos || dot == 0) return false;
  const std::string ext = lower(filename.substr(dot));
  const auto& all = image_extensions();
  return std::find(all.begin(), all.end(), ext) != all.end();
}

Status ImageFolderDataset::load_into(std::size_t i, cv::Mat& rgb) const {
  return decode_image_file(samples_[i].path, decode_, rgb);
}

Result<std::shared_ptr<ImageFolderDataset>> ImageFolderDataset::open(
    const ImageFolderOptions& options) {
  std::shared_ptr<ImageFolderDataset> ds(new ImageFolderDataset());
  ds->decode_ = options.decode;
  std::vector<Sample> all;
  std::string origin;

  if (!options.list_file.empty()) {
    // ---- list file ----
    origin = options.list_file;
    std::ifstream in(options.list_file);
    if (!in) {
      std::error_code ec;
      return Status::Error(options.list_file,
                           fs::exists(options.list_file, ec) ? "cannot read list file"
                                                             : "no such list file");
    }
    const fs::path base = fs::path(options.list_file).parent_path();
    std::vector<std::pair<std::string, std::string>> rows;
    std::vector<int> line_numbers;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      line = trim(line);
      if (line.empty() || line[0] == '#') continue;
      const auto cut = line.find_last_of(" \t");
      if (cut == std::string::npos) {
        return Status::Error(options.list_file + ":" + std::to_string(number),
                             "expected '<path> <label>', got '" + line + "'");
      }
      const fs::path p = trim(line.substr(0, cut));
      rows.emplace_back((p.is_absolute() ? p : base / p).string(), line.substr(cut + 1));
      line_numbers.push_back(number);
    }
    if (rows.empty()) return Status::Error(options.list_file, "list file has no entries");
    const bool integer_labels =
        std::all_of(rows.begin(), rows.end(), [](const auto& r) { return is_uint(r.second); });
    std::map<std::string, int> index;
    if (!options.class_names.empty()) {
      ds->classes_ = options.class_names;
    } else if (integer_labels) {
      int max_label = 0;
      for (const auto& r : rows) max_label = std::max(max_label, std::stoi(r.second));
      for (int c = 0; c <= max_label; ++c) ds->classes_.push_back(std::to_string(c));
    } else {
      std::set<std::string> names;
      for (const auto& r : rows) names.insert(r.second);
      ds->classes_.assign(names.begin(), names.end());
    }
    for (std::size_t c = 0; c < ds->classes_.size(); ++c) index[ds->classes_[c]] = static_cast<int>(c);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      int label = -1;
      if (integer_labels) {
        label = std::stoi(rows[k].second);
        if (label >= static_cast<int>(ds->classes_.size())) label = -1;
      } else if (auto it = index.find(rows[k].second); it != index.end()) {
        label = it->second;
      }
      if (label < 0) {
        return Status::Error(options.list_file + ":" + std::to_string(line_numbers[k]),
                             "label '" + rows[k].second + "' is not one of the " +
                                 std::to_string(ds->classes_.size()) + " classes");
      }
      all.push_back({rows[k].first, label});
    }
  } else {
    // ---- root/<class>/<image> ----
    origin = options.root;
    if (options.root.empty()) return Status::Error("", "no image folder given");
    std::error_code ec;
    const fs::path root(options.root);
    if (!fs::exists(root, ec)) return Status::Error(options.root, "no such directory");
    if (!fs::is_directory(root, ec)) return Status::Error(options.root, "not a directory");
    std::vector<std::string> folders;
    std::size_t loose_images = 0;
    fs::directory_iterator it(root, ec);
    if (ec) return Status::Error(options.root, "cannot list folder: " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return Status::Error(options.root, "cannot list folder: " + ec.message());
      const std::string name = it->path().filename().string();
      if (is_hidden(name)) continue;
      std::error_code dir_ec;
      if (fs::is_directory(it->path(), dir_ec)) folders.push_back(name);
      else if (has_image_extension(name)) ++loose_images;
    }
    std::sort(folders.begin(), folders.end());
    if (folders.empty()) {
      return Status::Error(
          options.root,
          "no class sub-folders (expected <root>/<class>/<image>" +
              (loose_images ? "; found " + std::to_string(loose_images) +
                                  " image files directly in the root)"
                            : ")"));
    }
    ds->classes_ = options.class_names.empty() ? folders : options.class_names;
    for (const auto& folder : folders) {
      const auto pos = std::find(ds->classes_.begin(), ds->classes_.end(), folder);
      if (pos == ds->classes_.end()) {
        return Status::Error((root / folder).string(),
                             "folder is not one of the " + std::to_string(ds->classes_.size()) +
                                 " given classes");
      }
      Walker walker;
      walker.mutable_log = &ds->skip_log();
      ALEXNET_DATA_RETURN_IF_ERROR(walker.walk(root / folder, true));
      if (walker.files.empty()) {
        return Status::Error((root / folder).string(),
                             "class folder contains no image files (extensions: " +
                                 extension_list() + ")");
      }
      std::sort(walker.files.begin(), walker.files.end());
      ds->ignored_files_ += walker.ignored;
      const int label = static_cast<int>(pos - ds->classes_.begin());
      for (auto& f : walker.files) all.push_back({std::move(f), label});
    }
  }

  std::vector<int> labels;
  labels.reserve(all.size());
  for (const auto& s : all) labels.push_back(s.label);
  auto chosen = split_indices(labels, static_cast<int>(ds->classes_.size()), options.split);
  if (!chosen.ok()) return Status::Error(origin, chosen.status().reason());
  std::vector<std::size_t> keep = std::move(*chosen);
  if (options.limit > 0 && keep.size() > options.limit) {
    Rng rng(derive_seed(options.split.seed, static_cast<std::uint64_t>(RngPurpose::kSample)));
    for (std::size_t i = 0; i < options.limit; ++i) {
      std::swap(keep[i], keep[i + rng.below(keep.size() - i)]);
    }
    keep.resize(options.limit);
    std::sort(keep.begin(), keep.end());
  }
  for (auto i : keep) ds->samples_.push_back(std::move(all[i]));
  if (ds->samples_.empty()) {
    return Status::Error(origin, std::string("the ") + subset_name(options.split.subset) +
                                     " subset has no images");
  }
  ds->description_ = "image folder " + origin + " (" + subset_name(options.split.subset) + ", " +
                     std::to_string(ds->samples_.size()) + " of " + std::to_string(all.size()) +
                     " images, " + std::to_string(ds->classes_.size()) + " classes)";
  return ds;
}

}  // namespace alexnet::data
