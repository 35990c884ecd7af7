#include "train/predict.h"

#include <algorithm>
#include <filesystem>

#include "data/decode.h"
#include "data/image_folder.h"
#include "model/ranking.h"

namespace alexnet::train {

namespace fs = std::filesystem;

std::vector<std::string> ExpandImageInputs(const std::vector<std::string>& inputs,
                                           std::vector<Prediction>* missing) {
  std::vector<std::string> files;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file(ec) && data::HasImageExtension(it->path().filename().string())) {
          found.push_back(it->path().string());
        }
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) missing->push_back({in, "folder holds no image files", {}});
      files.insert(files.end(), found.begin(), found.end());
    } else if (!fs::exists(fs::symlink_status(in, ec))) {
      missing->push_back({in, "no such file or folder", {}});
    } else {
      files.push_back(in);  // decode reports what is wrong with it, if anything
    }
  }
  return files;
}

std::vector<Prediction> PredictFiles(Classifier* model, const std::vector<std::string>& files, int top_k,
                                     int batch) {
  std::vector<Prediction> results(files.size());
  const data::PreprocessOptions pre = model->preprocess();
  const int c = pre.crop;
  const int classes = static_cast<int>(model->class_names().size());
  const data::DecodeOptions decode = model->decode();
  cv::Mat rgb;
  for (size_t start = 0; start < files.size(); start += batch) {
    const size_t end = std::min(files.size(), start + batch);
    tensorflow::Tensor images(tensorflow::DT_FLOAT, {int64_t(end - start), c, c, 3});
    std::vector<size_t> good;
    for (size_t i = start; i < end; ++i) {
      results[i].path = files[i];
      Status st = data::DecodeImageFile(files[i], decode, rgb);
      if (st.ok()) {
        st = data::PreprocessEval(rgb, pre, model->normalization(),
                                   images.flat<float>().data() + good.size() * size_t(c) * c * 3);
      }
      if (!st.ok()) {
        results[i].error = st.reason();
        continue;
      }
      good.push_back(i);
    }
    if (good.empty()) continue;
    tensorflow::Tensor probs;
    const Status st = model->Predict(images.Slice(0, static_cast<int64_t>(good.size())), &probs);
    for (size_t k = 0; k < good.size(); ++k) {
      Prediction& p = results[good[k]];
      if (!st.ok()) {
        p.error = "prediction failed: " + st.message();
        continue;
      }
      const float* row = probs.flat<float>().data() + k * classes;
      for (int cls : model::TopK(row, classes, top_k)) p.top.emplace_back(cls, row[cls]);
    }
  }
  return results;
}

}  // namespace alexnet::train
