#include "model/layers.h"

#include <algorithm>
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

const char* PrecisionName(Precision precision) { return NameIn(kPrecisionNames, precision); }

const char* LrnKernelName(LrnKernel kernel) { return NameIn(kLrnKernelNames, kernel); }

const char* InitName(Init init) { return NameIn(kInitNames, init); }

const char* ArchitectureName(Architecture a) { return NameIn(kArchitectureNames, a); }

const std::vector<LayerSpec>& TableOf(Architecture a) {
  return a == Architecture::kTorchvision ? TorchvisionLayers() : AlexNetLayers();
}

int DefaultInputSize(Architecture a) { return a == Architecture::kTorchvision ? 224 : 227; }

const char* ActivationName(Activation a) { return a == Activation::kNone ? "none" : NameIn(kActivationNames, a); }

const char* ActivationLabel(Activation a) {
  switch (a) {
    case Activation::kNone: return "";
    case Activation::kRelu: return "ReLU";
    case Activation::kTanh: return "tanh";
  }
  return "?";
}

std::string PoolText(const ModelOptions& opts) {
  return std::to_string(opts.pool_kernel) + "/" + std::to_string(opts.pool_stride);
}

Status CheckVariants(const ModelOptions& opts) {
  if (opts.pool_kernel < 1 || opts.pool_stride < 1) {
    return Status::BadInput("", "pooling window and stride must be at least 1 (got " + PoolText(opts) + ")");
  }
  return Status::Ok();
}

std::vector<std::string> ParameterLayers() {
  std::vector<std::string> names;
  for (const LayerSpec& spec : AlexNetLayers()) {
    if (spec.kind == LayerKind::kConv || spec.kind == LayerKind::kFullyConnected) names.push_back(spec.name);
  }
  return names;
}

Result<std::vector<std::string>> ParseTrainLayers(const std::string& text) {
  const std::vector<std::string> valid = ParameterLayers();
  std::vector<bool> chosen(valid.size(), false);
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto it = std::find(valid.begin(), valid.end(), name);
    if (it == valid.end()) {
      std::string list;
      for (const std::string& v : valid) list += (list.empty() ? "" : ", ") + v;
      return Status::BadInput("", "'" + name + "' is not a layer with parameters; the layers are " + list);
    }
    chosen[static_cast<size_t>(it - valid.begin())] = true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::vector<std::string> layers;
  for (size_t i = 0; i < valid.size(); ++i) {
    if (chosen[i]) layers.push_back(valid[i]);
  }
  return layers;
}

std::string ParameterLayer(const std::string& parameter) { return parameter.substr(0, parameter.find('/')); }

bool IsTrained(const std::string& parameter, const std::vector<std::string>& train_layers) {
  return train_layers.empty() ||
         std::find(train_layers.begin(), train_layers.end(), ParameterLayer(parameter)) != train_layers.end();
}

std::vector<LayerSpec> AlexNetLayers(const ModelOptions& opts) {
  std::vector<LayerSpec> layers;
  for (LayerSpec spec : TableOf(opts.architecture)) {
    if (spec.kind == LayerKind::kLrn && !opts.lrn) continue;
    if (spec.activation != Activation::kNone) spec.activation = opts.activation;
    if (spec.kind == LayerKind::kMaxPool) {
      spec.kernel = opts.pool_kernel;
      spec.stride = opts.pool_stride;
    }
    layers.push_back(spec);
  }
  return layers;
}

ReceptiveField NextReceptiveField(const ReceptiveField& in, const LayerSpec& spec, int input_size) {
  switch (spec.kind) {
    case LayerKind::kConv:
    case LayerKind::kMaxPool:
      if (in.whole_input) return in;  // (no table has a window after an FC layer)
      return {in.size + (spec.kernel - 1) * in.jump, in.jump * spec.stride, false};
    case LayerKind::kLrn:  // across channels at one pixel
      return in;
    case LayerKind::kFullyConnected:
      return {input_size, 0, true};
  }
  return in;
}

std::string ReceptiveFieldText(const ReceptiveField& field) {
  return field.whole_input ? "all" : std::to_string(field.size);
}

std::string JumpText(const ReceptiveField& field) { return field.whole_input ? "" : std::to_string(field.jump); }

int64_t ActivationBytes(int64_t values) { return values * int64_t(sizeof(float)); }

namespace {
// Output side of a conv or pooling layer for an input side, or 0 when the window does not fit.
int SpatialOut(const LayerSpec& spec, int in) {
  const int pad = spec.kind == LayerKind::kConv ? spec.pad : 0;  // pooling is VALID
  if (in + 2 * pad < spec.kernel) return 0;
  return (in + 2 * pad - spec.kernel) / spec.stride + 1;
}
}  // namespace

Result<std::vector<LayerShape>> ComputeLayerShapes(const ModelOptions& opts) {
  if (opts.num_classes < 1) return Status::BadInput("", "number of classes must be at least 1");
  ALEXNET_RETURN_IF_ERROR(CheckVariants(opts));
  std::vector<LayerShape> out;
  int h = opts.input_size, w = opts.input_size, c = 3;
  ReceptiveField field;  // of an input pixel: itself
  for (const LayerSpec& spec : AlexNetLayers(opts)) {
    field = NextReceptiveField(field, spec, opts.input_size);
    LayerShape s{spec, h, w, c, h, w, c, 0, 0, field, 0};
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
      return Status::BadInput("", msg.str());
    }
    if (opts.architecture == Architecture::kTorchvision && spec.kind == LayerKind::kFullyConnected && out.back().spec.kind == LayerKind::kMaxPool &&
        (h != 6 || w != 6)) {
      return Status::BadInput("", "input size " + std::to_string(opts.input_size) + ": torchvision's AlexNet averages pool5's " +
                                      std::to_string(h) + " x " + std::to_string(w) +
                                      " maps to 6 x 6 (adaptive average pooling), which this table has only where it is the "
                                      "identity: pool5 of 6 x 6, inputs 223 to 254 (224 is torchvision's)");
    }
    s.activation_bytes = ActivationBytes(int64_t(s.out_h) * s.out_w * s.out_c);
    out.push_back(s);
    h = s.out_h;
    w = s.out_w;
    c = s.out_c;
  }
  return out;
}

int MinimumInputSize(const ModelOptions& opts) {
  if (!CheckVariants(opts).ok()) return -1;
  const std::vector<LayerSpec> layers = AlexNetLayers(opts);
  for (int size = 1; size < 4096; ++size) {
    int h = size;  // only the spatial layers matter
    for (const LayerSpec& spec : layers) {
      if (spec.kind == LayerKind::kConv || spec.kind == LayerKind::kMaxPool) h = SpatialOut(spec, h);
      if (h < 1) break;
    }
    if (h >= 1) return size;
  }
  return -1;
}

}  // namespace alexnet::model
