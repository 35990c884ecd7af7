// The TensorFlow session options every session of ours starts from: the intra-op thread count
// (0 = TensorFlow's default, all cores; else that many, with one inter-op thread) and the
// precision (precision.h). Used by ModelSession and by the SavedModel loader (train/saved_model.h).
#pragma once

#include <tensorflow/core/public/session_options.h>

#include "model/layers.h"

namespace alexnet::model {

tensorflow::SessionOptions BaseSessionOptions(int threads, Precision precision);

}  // namespace alexnet::model
