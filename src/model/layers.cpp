#include "model/layers.h"

#include <sstream>

namespace alexnet::model {

int OutChannels(const LayerSpec& spec, const ModelOptions& opts) {
  return spec.out_channels > 0 ? spec.out_channels : opts.num_classes;
}

const char* KindName(LayerKind kind) {
  switch (kind) {
    case LayerKind::kConv: return "conv";
    case LayerKind::kLrn: return "lrn";
    case LayerKind::kMaxPool: return "maxpool";
    case LayerKind::kFullyConnected: return "fc";
  }
  return "?";
}

const char* PrecisionName(Precision precision) { return precision == Precision::kBf16 ? "bf16" : "fp32"; }

namespace {
// Output side of a conv or pooling layer for an input side, or 0 when the window does not fit.
int SpatialOut(const LayerSpec& spec, int in) {
  const int pad = spec.kind == LayerKind::kConv ? spec.pad : 0;  // pooling is VALID
  if (in + 2 * pad < spec.kernel) return 0;
  return (in + 2 * pad - spec.kernel) / spec.stride + 1;
}
}  // namespace

Result<std::vector<LayerShape>> ComputeLayerShapes(const ModelOptions& opts) {
  if (opts.num_classes < 1) return Status::Error("", "number of classes must be at least 1");
  std::vector<LayerShape> out;
  int h = opts.input_size, w = opts.input_size, c = 3;
  for (const LayerSpec& spec : AlexNetLayers()) {
    if (spec.kind == LayerKind::kLrn && !opts.lrn) continue;
    LayerShape s{&spec, h, w, c, h, w, c, 0, 0};
    switch (spec.kind) {
      case LayerKind::kConv:
        s.out_h = SpatialOut(spec, h);
        s.out_w = SpatialOut(spec, w);
        s.out_c = OutChannels(spec, opts);
        s.params = int64_t(spec.kernel) * spec.kernel * c * s.out_c + s.out_c;
        s.macs = int64_t(s.out_h) * s.out_w * s.out_c * spec.kernel * spec.kernel * c;
        break;
      case LayerKind::kMaxPool:  // VALID pooling, as in the paper (55 -> 27 -> 13 -> 6)
        s.out_h = SpatialOut(spec, h);
        s.out_w = SpatialOut(spec, w);
        break;
      case LayerKind::kLrn:
        break;
      case LayerKind::kFullyConnected: {
        const int64_t in = int64_t(h) * w * c;
        s.out_h = s.out_w = 1;
        s.out_c = OutChannels(spec, opts);
        s.params = in * s.out_c + s.out_c;
        s.macs = in * s.out_c;
        break;
      }
    }
    if (s.out_h < 1 || s.out_w < 1) {
      std::ostringstream msg;
      msg << "input size " << opts.input_size << " is too small for AlexNet: " << spec.name
          << " would get a " << h << " x " << w << " input and produce nothing; the smallest input"
          << " size is " << MinimumInputSize(opts);
      return Status::Error("", msg.str());
    }
    out.push_back(s);
    h = s.out_h;
    w = s.out_w;
    c = s.out_c;
  }
  return out;
}

int MinimumInputSize(const ModelOptions& /*opts*/) {
  for (int size = 1; size < 4096; ++size) {
    int h = size;  // only the spatial layers matter
    for (const LayerSpec& spec : AlexNetLayers()) {
      if (spec.kind == LayerKind::kConv || spec.kind == LayerKind::kMaxPool) h = SpatialOut(spec, h);
      if (h < 1) break;
    }
    if (h >= 1) return size;
  }
  return -1;
}

}  // namespace alexnet::model
