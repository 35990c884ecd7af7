// Prediction on image files with a classifier (a run, trained_model.h, or a SavedModel): the files a list of
// inputs names, and each file's most probable classes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "train/classifier.h"

namespace alexnet::train {

struct Prediction {
  std::string path;
  std::string error;                       // non-empty: the file could not be used
  std::vector<std::pair<int, float>> top;  // (class, probability), most probable first
};

// Image files named by `inputs`: files as given, folders' image files (sorted, recursively).
// A path that does not exist becomes a Prediction with an error.
std::vector<std::string> ExpandImageInputs(const std::vector<std::string>& inputs,
                                           std::vector<Prediction>* missing);

// Decodes, preprocesses (centre crop, the model's mean) and classifies files, `batch` at a time.
// A bad file gets an error and does not stop the others.
std::vector<Prediction> PredictFiles(Classifier* model, const std::vector<std::string>& files,
                                     int top_k, int batch);

}  // namespace alexnet::train
