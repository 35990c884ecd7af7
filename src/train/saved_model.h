// A trained run as a TensorFlow SavedModel (tag "serve", signature "serving_default"), TensorFlow's
// own deployment format: what TensorFlow Serving, tf.saved_model.load and saved_model_cli read.
//
// Written with TensorFlow's protos (SavedModel, MetaGraphDef, SignatureDef), not by Python. The
// weights are frozen as constants in the graph (FreezeServingGraph): the export is for inference,
// a graph of constants is the same network the frozen .pb export gives OpenCV (one code path, one
// test of it), and the folder needs no checkpoint restored. What that gives up: a Python reader
// cannot fine-tune from the SavedModel's variables (it has none); fine-tuning starts from the run.
//
//   DIR/saved_model.pb             the graph (preprocessing, network, top class) and the signature
//   DIR/assets/classes.txt         one class name per line, in output order
//   DIR/assets/preprocessing.json  resize, crop, mean, input scale, decode limits, the run's config
//
// Signature: input "images" float [N, C, C, 3], RGB 0..255 centre crops (the mean is subtracted
// inside); outputs "probabilities" float [N, classes] and "top_class" int64 [N].
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "train/classifier.h"
#include "train/config.h"
#include "train/serving_record.h"
#include "train/trained_model.h"

namespace tensorflow {
struct SavedModelBundle;
}

namespace alexnet::train {

// Writes `model` as a SavedModel folder `output`, first into <output>.exporting and renamed when
// complete (an interrupted export leaves no half SavedModel at `output`). An existing non-empty
// `output` is refused unless `overwrite`.
Status WriteSavedModel(TrainedModel* model, const std::string& output, bool overwrite);

// `alexnet export --format saved_model`.
Result<std::string> ExportSavedModel(const std::string& run_dir, const std::string& checkpoint,
                                     const std::string& output, bool overwrite, std::ostream& out);

// A SavedModel written by WriteSavedModel, loaded with tensorflow::LoadSavedModel. Its classes
// and preprocessing come from its assets; the caller gives it 0..255 centre crops.
class SavedModelClassifier : public Classifier {
 public:
  static Result<std::unique_ptr<SavedModelClassifier>> Open(const std::string& dir, const SessionChoice& choice = {});
  ~SavedModelClassifier() override;

  const std::vector<std::string>& class_names() const override { return classes_; }
  data::PreprocessOptions preprocess() const override;
  const data::Normalization& normalization() const override { return none_; }
  std::shared_ptr<const data::ColorStats> stats() const override { return nullptr; }
  Status Predict(const tensorflow::Tensor& images, tensorflow::Tensor* probabilities) override;
  const std::string& origin() const override { return dir_; }
  // The run's configuration as recorded in the export (its data, for `eval --model` on a split),
  // with the SavedModel's resize and crop.
  const TrainConfig& config() const override { return config_; }

 private:
  SavedModelClassifier() = default;
  std::string dir_;
  std::vector<std::string> classes_;
  TrainConfig config_;
  data::Normalization none_;
  std::unique_ptr<tensorflow::SavedModelBundle> bundle_;
  std::string input_tensor_, output_tensor_;
};

}  // namespace alexnet::train
