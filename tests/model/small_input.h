// The input size of the tests that run the whole table on a small image.
#pragma once

#include <vector>

#include "model/layers.h"

namespace alexnet::model {

// The smallest input size the table accepts whose last feature map (pool5) is at least 2 x 2, so
// that fc6's flattening of the NHWC maps (y, then x, then channel) is exercised too: at the
// minimum size (MinimumInputSize) pool5 is 1 x 1 and any flattening order would pass. -1 when none.
inline int SmallInputSizeWithSpatialPool5(ModelOptions opts) {
  for (int size = MinimumInputSize(opts); size > 0 && size < 1024; ++size) {
    opts.input_size = size;
    const Result<std::vector<LayerShape>> shapes = ComputeLayerShapes(opts);
    if (!shapes.ok()) continue;
    int last_h = 0;
    for (const LayerShape& s : shapes.value())
      if (s.spec.kind != LayerKind::kFullyConnected) last_h = s.out_h;
    if (last_h >= 2) return size;
  }
  return -1;
}

}  // namespace alexnet::model
