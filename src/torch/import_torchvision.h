// `alexnet import torchvision`: torchvision's pretrained AlexNet (a state_dict saved by
// torch.save, in its zip or legacy format, or as .safetensors) as an ordinary run folder of the
// torchvision table (model/layers.h, TorchvisionLayers), which predict, eval, inspect, filters,
// export, time, summary --run and train --init-from read unchanged.
//
// The mapping (mapping.h's steps, shared with the Caffe import):
//   features.0/3/6/8/10 -> conv1..conv5: OIHW -> HWIO (torchvision reads RGB, as we do)
//   classifier.1/4/6    -> fc6, fc7, fc8: [out, in] -> [in, out]; fc6's inputs C x H x W -> H x W x C
//   normalisation       torchvision feeds (pixel / 255 - mean) / std per channel. We subtract the
//                       mean in 0..255 (255 * mean, the run's per-channel mean) and fold
//                       1 / (255 * std) into conv1's weights of each input channel. Exact with
//                       conv1's zero padding: a padded zero is the mean pixel in both spaces.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "util/status.h"

namespace alexnet::torch {

struct TorchvisionImportRequest {
  std::string weights;  // alexnet-owt-7be5be79.pth (zip or legacy), or .safetensors
  std::string labels;   // one class name a line (imagenet_classes.txt), or synset_words.txt's form
  std::string run_dir;  // must not exist
};

// Prints the result (run, classes, parameters, seconds) to `out`; returns the parameter count.
Result<int64_t> ImportTorchvision(const TorchvisionImportRequest& request, std::ostream& out);

}  // namespace alexnet::torch
