// `alexnet import caffe`: Caffe's AlexNet (bvlc_alexnet) as an ordinary run folder that predict,
// eval, inspect, filters, export, time, summary --run and train --init-from read unchanged
// (docs/imagenet.md).
//
// The Caffe files are read by `alexnet-caffe-read` (caffe_read_main.cpp), a process without
// TensorFlow; this side writes the checkpoint with TensorFlow's own bundle writer. Everything is
// written into <run>.importing/ and renamed to <run> only when complete: a failed import leaves
// neither the run folder nor the staging folder.
#pragma once

#include <array>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "util/status.h"

namespace alexnet::caffe {

struct CaffeImportRequest {
  std::string prototxt;   // deploy.prototxt
  std::string weights;    // bvlc_alexnet.caffemodel
  std::string labels;     // synset_words.txt, or one class name a line
  std::optional<std::array<float, 3>> mean_bgr;  // --mean-bgr 104,117,123 (Caffe's order: B, G, R)
  std::string mean_file;  // --mean-file imagenet_mean.binaryproto (instead of mean_bgr)
  std::string run_dir;    // must not exist
  std::string reader;     // alexnet-caffe-read; "" = the one next to the running program
};

struct CaffeImportOutcome {
  int num_classes = 0;
  int64_t parameters = 0;
  int64_t caffemodel_bytes = 0;
  int64_t reader_peak_kib = 0;  // VmHWM of alexnet-caffe-read (OpenCV reading the weights)
  int64_t writer_peak_kib = 0;  // VmHWM of this process (TensorFlow writing the checkpoint)
  double seconds = 0;
};

// Prints a few lines of progress and the result (the run, the classes, the peak memory) to `out`.
Result<CaffeImportOutcome> ImportCaffe(const CaffeImportRequest& request, std::ostream& out);

}  // namespace alexnet::caffe
