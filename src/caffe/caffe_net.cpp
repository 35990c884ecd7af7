#include "caffe/caffe_net.h"

#include <algorithm>
#include <utility>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/all_layers.hpp>

#include "caffe.pb.h"  // generated from caffe/caffe.proto
#include "util/files.h"

namespace alexnet::caffe {

namespace {

using model::LayerKind;

// A Caffe layer of the kinds the table has, with what follows it.
struct CaffeLayer {
  std::string name, type;
  cv::Ptr<cv::dnn::Layer> layer;
  std::vector<int> out_shape;  // N x C x H x W (or N x C for InnerProduct)
  bool relu_after = false;
};

std::string Dims(const std::vector<int>& shape) {  // C x H x W, the batch left out
  std::vector<int64_t> d(shape.size() > 1 ? shape.begin() + 1 : shape.begin(), shape.end());
  return ShapeText(d);
}

std::string TableText(const model::LayerShape& s) {
  const model::LayerSpec& r = s.spec;
  const std::string out = " -> " + std::to_string(s.out_c) + (r.kind == LayerKind::kFullyConnected
                                                                  ? ""
                                                                  : " x " + std::to_string(s.out_h) + " x " +
                                                                        std::to_string(s.out_w));
  switch (r.kind) {
    case LayerKind::kConv:
      return std::to_string(s.out_c) + " filters " + std::to_string(r.kernel) + " x " +
             std::to_string(r.kernel) + " / " + std::to_string(r.stride) + " pad " + std::to_string(r.pad) +
             " over " + std::to_string(s.in_c) + " channels" + out;
    case LayerKind::kLrn: return out.substr(1);
    case LayerKind::kMaxPool:
      return "max " + std::to_string(r.kernel) + " x " + std::to_string(r.kernel) + " / " +
             std::to_string(r.stride) + out;
    case LayerKind::kFullyConnected:
      return std::to_string(s.in_h * s.in_w * s.in_c) + " inputs" + out;
  }
  return "";
}

const char* CaffeType(LayerKind kind) {
  switch (kind) {
    case LayerKind::kConv: return "Convolution";
    case LayerKind::kLrn: return "LRN";
    case LayerKind::kMaxPool: return "Pooling";
    case LayerKind::kFullyConnected: return "InnerProduct";
  }
  return "";
}

Array FromMat(const cv::Mat& m) {
  Array a;
  for (int i = 0; i < m.dims; ++i) a.shape.push_back(m.size[i]);
  const cv::Mat f = m.isContinuous() ? m : m.clone();
  const float* p = f.ptr<float>();
  a.values.assign(p, p + f.total());
  return a;
}

// The Caffe layer's own description, for the messages: its blobs' and output's shapes.
std::string CaffeText(const CaffeLayer& c, const std::vector<int64_t>& weights_shape) {
  std::string s;
  if (auto conv = c.layer.dynamicCast<cv::dnn::BaseConvolutionLayer>()) {
    const auto& k = conv->kernel_size;
    const auto& st = conv->strides;
    s += std::to_string(conv->numOutput) + " filters " +
         (k.size() == 2 ? std::to_string(k[0]) + " x " + std::to_string(k[1]) : std::string("?")) + " / " +
         (st.empty() ? std::string("?") : std::to_string(st[0])) + " pad " +
         (conv->pads_begin.empty() ? std::string("?") : std::to_string(conv->pads_begin[0]));
  } else if (auto pool = c.layer.dynamicCast<cv::dnn::PoolingLayer>()) {
    const auto& k = pool->kernel_size;
    s += std::string(pool->type == 0 ? "max" : "not max") + " " +
         (k.size() == 2 ? std::to_string(k[0]) + " x " + std::to_string(k[1]) : std::string("?")) + " / " +
         (pool->strides.empty() ? std::string("?") : std::to_string(pool->strides[0]));
  }
  if (!weights_shape.empty()) s += std::string(s.empty() ? "" : ", ") + "weights " + ShapeText(weights_shape);
  return s + (s.empty() ? "" : " ") + "-> " + Dims(c.out_shape);
}

// What the import reads from the prototxt with Caffe's schema (the part we have; the other
// fields are skipped) before OpenCV builds any layer from it:
// - the k of every LRN layer, in order: OpenCV 4.6 reads Caffe's LRN as `bias`, which Caffe's
//   schema does not have, so it always uses 1 and would import a network with another k wrongly;
// - the layer types and the convolution and pooling geometry: OpenCV builds a layer of any type
//   it knows when asked for it, and divides by a group or a stride of 0 (a crash, SIGFPE, found
//   by fuzz_caffe_prototxt), so a type the seed table does not have and these values are refused
//   here, naming the layer.
// Keeps the first error; the warnings (one per field our part of the schema lacks) are dropped.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (error.empty()) error = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) + ": " + message;
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  std::string error;
};

// Caffe's type names of the layers a deploy.prototxt of the seed table's AlexNet has (Input is the
// data layer; Caffe's V1 format names them with an enum, mapped here).
const char* KnownType(alexnet_caffe::V1LayerParameter::LayerType type) {
  using V1 = alexnet_caffe::V1LayerParameter;
  switch (type) {
    case V1::CONVOLUTION: return "Convolution";
    case V1::RELU: return "ReLU";
    case V1::LRN: return "LRN";
    case V1::POOLING: return "Pooling";
    case V1::INNER_PRODUCT: return "InnerProduct";
    case V1::DROPOUT: return "Dropout";
    case V1::SOFTMAX: return "Softmax";
    default: return nullptr;
  }
}

bool KnownType(const std::string& type) {
  for (const char* t : {"Input", "Convolution", "ReLU", "LRN", "Pooling", "InnerProduct", "Dropout", "Softmax"}) {
    if (type == t) return true;
  }
  return false;
}

// The first value below 1 of a geometry field ("" when all are), e.g. "stride 0".
std::string NotPositive(const char* field, const google::protobuf::RepeatedField<uint32_t>& values) {
  for (uint32_t v : values) {
    if (v < 1) return std::string(field) + " " + std::to_string(v);
  }
  return "";
}
std::string NotPositive(const char* field, bool set, uint32_t value) {
  return set && value < 1 ? std::string(field) + " " + std::to_string(value) : "";
}

std::string BadGeometry(const alexnet_caffe::ConvolutionParameter& p) {
  for (const std::string& bad :
       {NotPositive("group", true, p.group()), NotPositive("kernel_size", p.kernel_size()),
        NotPositive("kernel_h", p.has_kernel_h(), p.kernel_h()), NotPositive("kernel_w", p.has_kernel_w(), p.kernel_w()),
        NotPositive("stride", p.stride()), NotPositive("stride_h", p.has_stride_h(), p.stride_h()),
        NotPositive("stride_w", p.has_stride_w(), p.stride_w()), NotPositive("dilation", p.dilation())}) {
    if (!bad.empty()) return bad;
  }
  return "";
}

std::string BadGeometry(const alexnet_caffe::PoolingParameter& p) {
  for (const std::string& bad :
       {NotPositive("kernel_size", p.has_kernel_size() && !p.global_pooling(), p.kernel_size()),
        NotPositive("kernel_h", p.has_kernel_h() && !p.global_pooling(), p.kernel_h()),
        NotPositive("kernel_w", p.has_kernel_w() && !p.global_pooling(), p.kernel_w()),
        NotPositive("stride", true, p.stride()), NotPositive("stride_h", p.has_stride_h(), p.stride_h()),
        NotPositive("stride_w", p.has_stride_w(), p.stride_w())}) {
    if (!bad.empty()) return bad;
  }
  return "";
}

// One layer of either format: its type known to the table, its geometry usable.
template <typename Layer>
Status CheckBeforeOpenCV(const Layer& l, const std::string& type, bool known, const std::string& origin) {
  const std::string where = "layer " + l.name() + " (" + type + "): ";
  if (!known) return Status::BadInput(origin, where + "the seed table's AlexNet has no layer of this type");
  std::string bad;
  if (type == "Convolution") bad = BadGeometry(l.convolution_param());
  if (type == "Pooling") bad = BadGeometry(l.pooling_param());
  if (!bad.empty()) return Status::BadInput(origin, where + bad + "; Caffe's groups, kernels, strides and dilations are at least 1");
  return Status::Ok();
}

// The LRN layers' k, in order, once every layer has passed CheckBeforeOpenCV.
Result<std::vector<float>> ReadPrototxtFirst(const std::string& text, const std::string& origin) {
  alexnet_caffe::NetParameter net;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  parser.AllowUnknownField(true);
  parser.AllowUnknownExtension(true);
  if (!parser.ParseFromString(text, &net)) {
    return Status::BadInput(origin, "protobuf cannot parse it as a Caffe network description: " + errors.error);
  }
  std::vector<float> k;
  for (const auto& l : net.layer()) {
    ALEXNET_RETURN_IF_ERROR(CheckBeforeOpenCV(l, l.type(), KnownType(l.type()), origin));
    if (l.type() == "LRN") k.push_back(l.lrn_param().k());
  }
  for (const auto& l : net.layers()) {
    const char* type = KnownType(l.type());
    const std::string name = type != nullptr ? type : alexnet_caffe::V1LayerParameter::LayerType_Name(l.type());
    ALEXNET_RETURN_IF_ERROR(CheckBeforeOpenCV(l, name, type != nullptr, origin));
    if (l.type() == alexnet_caffe::V1LayerParameter::LRN) k.push_back(l.lrn_param().k());
  }
  return k;
}

class Reader {
 public:
  Reader(const CaffeFiles& files, cv::dnn::Net& net) : files_(files), net_(net) {}

  Result<CaffeNetInfo> Run(const ParameterSink& sink) {
    std::string text = files_.prototxt;
    if (text.empty()) {
      ALEXNET_ASSIGN_OR_RETURN(text, ReadFile(files_.prototxt_path));
    }
    ALEXNET_ASSIGN_OR_RETURN(lrn_k_, ReadPrototxtFirst(text, files_.prototxt_path));
    ALEXNET_RETURN_IF_ERROR(Collect());
    ALEXNET_RETURN_IF_ERROR(CheckLayerKinds());
    // The class count is fc8's width; LRN constants from norm1 (norm2 must agree).
    info_.model.num_classes = static_cast<int>(layers_.back().out_shape[1]);
    ALEXNET_RETURN_IF_ERROR(ReadLrn());
    ALEXNET_ASSIGN_OR_RETURN(const std::vector<model::LayerShape> table, model::ComputeLayerShapes(info_.model));
    for (std::size_t i = 0; i < table.size(); ++i) {
      ALEXNET_RETURN_IF_ERROR(MapLayer(table[i], layers_[i], sink));
    }
    return info_;
  }

 private:
  Status Error(const CaffeLayer& c, const std::string& what) const {
    return Status::BadInput(files_.prototxt_path, "layer " + c.name + " (" + c.type + "): " + what);
  }

  // The layers in order with their output shapes for one 227 x 227 image; ReLUs folded into
  // the layer before, Dropout and Softmax dropped, anything else refused.
  Status Collect() {
    const int S = info_.model.input_size;
    for (const std::string& name : net_.getLayerNames()) {
      const cv::Ptr<cv::dnn::Layer> layer = net_.getLayer(net_.getLayerId(name));
      if ((layer->type == "Convolution" || layer->type == "InnerProduct") && layer->blobs.empty()) {
        return Status::BadInput(files_.caffemodel_path, "no weights for layer " + name +
                                                            " (an empty or cut file, or another network's weights)");
      }
    }
    std::vector<int> ids;
    std::vector<std::vector<cv::dnn::MatShape>> in_shapes, out_shapes;
    try {
      net_.getLayersShapes(cv::dnn::MatShape{1, 3, S, S}, ids, in_shapes, out_shapes);
    } catch (const cv::Exception& e) {
      return Status::BadInput(files_.prototxt_path, "OpenCV cannot compute the layers' shapes for a 3 x " +
                                                        std::to_string(S) + " x " + std::to_string(S) +
                                                        " input with " + files_.caffemodel_path +
                                                        "'s weights: " + e.err);
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] == 0) continue;  // OpenCV's input layer
      cv::Ptr<cv::dnn::Layer> layer = net_.getLayer(ids[i]);
      CaffeLayer c{layer->name, layer->type, layer, out_shapes[i].empty() ? std::vector<int>{} : out_shapes[i][0]};
      if (c.type == "ReLU") {
        if (layers_.empty() || layers_.back().relu_after) return Error(c, "a ReLU where the seed table has none");
        layers_.back().relu_after = true;
        continue;
      }
      if (c.type == "Dropout" || c.type == "Identity") continue;  // inference: the identity
      if (c.type == "Softmax") {
        softmax_seen_ = true;
        continue;
      }
      if (softmax_seen_) return Error(c, "comes after the Softmax; the seed table ends with fc8");
      if (c.type != "Convolution" && c.type != "LRN" && c.type != "Pooling" && c.type != "InnerProduct") {
        return Error(c, "the seed table's AlexNet has no layer of this type");
      }
      layers_.push_back(std::move(c));
    }
    return Status::Ok();
  }

  Status CheckLayerKinds() const {
    model::ModelOptions opts;  // the table's rows (the class count does not change them)
    const std::vector<model::LayerSpec> rows = model::AlexNetLayers(opts);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (i >= layers_.size()) {
        return Status::BadInput(files_.prototxt_path, "the network ends after " +
                                                          (layers_.empty() ? std::string("its input") : layers_.back().name) +
                                                          "; the seed table goes on with " + rows[i].name + " (" +
                                                          CaffeType(rows[i].kind) + ")");
      }
      const CaffeLayer& c = layers_[i];
      if (c.type != CaffeType(rows[i].kind)) {
        return Error(c, std::string("the seed table has ") + rows[i].name + " (" + CaffeType(rows[i].kind) + ") here");
      }
      const bool relu = rows[i].activation == model::Activation::kRelu;
      if (c.relu_after != relu) {
        return Error(c, relu ? std::string("is not followed by a ReLU, as the seed table's ") + rows[i].name + " is"
                             : std::string("is followed by a ReLU; the seed table's ") + rows[i].name + " is not");
      }
    }
    if (layers_.size() > rows.size()) {
      return Error(layers_[rows.size()], "is more than the seed table has: its network ends with fc8");
    }
    return Status::Ok();
  }

  Status ReadLrn() {
    bool first = true;
    std::size_t index = 0;
    for (const CaffeLayer& c : layers_) {
      auto lrn = c.layer.dynamicCast<cv::dnn::LRNLayer>();
      if (!lrn) continue;
      if (lrn->type != 0 /* across channels */) return Error(c, "normalises within each channel; AlexNet's LRN is across channels");
      if (index >= lrn_k_.size()) return Error(c, "OpenCV and protobuf do not find the same LRN layers");
      const float alpha = lrn->normBySize ? lrn->alpha : lrn->alpha * static_cast<float>(lrn->size);
      Result<model::LrnParams> p = LrnFromCaffe(lrn->size, alpha, lrn->beta, lrn_k_[index++]);
      if (!p.ok()) return Error(c, p.status().reason());
      if (first) {
        info_.model.lrn_params = *p;
        first = false;
      } else if (p->depth_radius != info_.model.lrn_params.depth_radius || p->alpha != info_.model.lrn_params.alpha ||
                 p->beta != info_.model.lrn_params.beta || p->bias != info_.model.lrn_params.bias) {
        return Error(c, "has other constants than the first LRN layer; the table's model has one set");
      }
    }
    return Status::Ok();
  }

  // Shapes, then the parameters in our layout.
  Status MapLayer(const model::LayerShape& row, const CaffeLayer& c, const ParameterSink& sink) {
    const model::LayerSpec& r = row.spec;
    std::vector<int64_t> weights_shape;
    if (!c.layer->blobs.empty()) {
      for (int i = 0; i < c.layer->blobs[0].dims; ++i) weights_shape.push_back(c.layer->blobs[0].size[i]);
    }
    const auto mismatch = [&] {
      return Error(c, CaffeText(c, weights_shape) + "; the seed table's " + r.name + ": " + TableText(row));
    };
    // The output for one image must be the table's.
    std::vector<int> want = {1, row.out_c};
    if (r.kind != LayerKind::kFullyConnected) want = {1, row.out_c, row.out_h, row.out_w};
    std::vector<int> got = c.out_shape;
    if (r.kind == LayerKind::kFullyConnected && got.size() == 4 && got[2] == 1 && got[3] == 1) got.resize(2);
    if (got != want) return mismatch();
    info_.layers.push_back(c.name + " (" + c.type + ": " + CaffeText(c, weights_shape) + ") as " + r.name);
    if (r.kind == LayerKind::kLrn) return Status::Ok();
    if (r.kind == LayerKind::kMaxPool) {
      auto pool = c.layer.dynamicCast<cv::dnn::PoolingLayer>();
      const bool same = pool && pool->type == 0 && pool->kernel_size == std::vector<size_t>{size_t(r.kernel), size_t(r.kernel)} &&
                        pool->strides == std::vector<size_t>{size_t(r.stride), size_t(r.stride)};
      return same ? Status::Ok() : mismatch();
    }
    if (c.layer->blobs.size() != 2) {
      return Error(c, std::to_string(c.layer->blobs.size()) + " blobs in " + files_.caffemodel_path +
                          "; weights and biases (2) expected");
    }
    const cv::Mat& w = c.layer->blobs[0];
    const cv::Mat& b = c.layer->blobs[1];
    if (w.type() != CV_32F || b.type() != CV_32F) return Error(c, "weights are not 32-bit floats");
    if (static_cast<int64_t>(b.total()) != row.out_c) {
      return Error(c, std::to_string(b.total()) + " biases; the seed table's " + r.name + " has " +
                          std::to_string(row.out_c) + " outputs");
    }
    Array weights = FromMat(w);
    if (r.kind == LayerKind::kConv) {
      auto conv = c.layer.dynamicCast<cv::dnn::BaseConvolutionLayer>();
      const std::vector<size_t> k2 = {size_t(r.kernel), size_t(r.kernel)}, s2 = {size_t(r.stride), size_t(r.stride)},
                                p2 = {size_t(r.pad), size_t(r.pad)};
      if (!conv || conv->kernel_size != k2 || conv->strides != s2 || conv->pads_begin != p2 || conv->pads_end != p2 ||
          weights.shape.size() != 4 || weights.shape[0] != row.out_c || weights.shape[2] != r.kernel ||
          weights.shape[3] != r.kernel || weights.shape[1] < 1 || row.in_c % weights.shape[1] != 0) {
        return mismatch();
      }
      const int groups = static_cast<int>(row.in_c / weights.shape[1]);
      if (row.out_c % groups != 0) return mismatch();
      info_.groups.push_back(groups);
      if (groups > 1) weights = UngroupConvolution(weights, groups);
      if (row.in_c == 3) weights = ReverseInputChannels(weights);  // the image: BGR in Caffe, RGB here
      weights = OihwToHwio(weights);
    } else {
      const int64_t in = int64_t(row.in_h) * row.in_w * row.in_c;
      if (static_cast<int64_t>(w.total()) != in * row.out_c) return mismatch();
      weights.shape = {row.out_c, in};  // OpenCV may keep Caffe's legacy 1 x 1 x out x in
      weights = row.in_h > 1 || row.in_w > 1 ? FullyConnectedFromChw(weights, row.in_c, row.in_h, row.in_w)
                                             : TransposeFullyConnected(weights);
    }
    ALEXNET_RETURN_IF_ERROR(sink(std::string(r.name) + "/weights", weights));
    weights = Array{};
    Array biases = FromMat(b);
    biases.shape = {row.out_c};
    return sink(std::string(r.name) + "/biases", biases);
  }

  const CaffeFiles& files_;
  cv::dnn::Net& net_;
  CaffeNetInfo info_;
  std::vector<CaffeLayer> layers_;
  std::vector<float> lrn_k_;  // from the prototxt, in order
  bool softmax_seen_ = false;
};

}  // namespace

Result<CaffeNetInfo> ReadCaffeAlexNet(const CaffeFiles& files, const ParameterSink& sink) {
  cv::dnn::Net net;
  try {
    // From the files when given by path (OpenCV parses the weights as it reads them: the file's
    // bytes are never held whole), else from the bytes (the fuzz target).
    net = files.caffemodel.empty() && files.prototxt.empty()
              ? cv::dnn::readNetFromCaffe(files.prototxt_path, files.caffemodel_path)
              : cv::dnn::readNetFromCaffe(files.prototxt.data(), files.prototxt.size(), files.caffemodel.data(),
                                          files.caffemodel.size());
  } catch (const cv::Exception& e) {
    // OpenCV's message says which of the two it could not parse ("ReadProtoFromBinary...").
    const bool weights = e.err.find("Binary") != std::string::npos || e.msg.find("Binary") != std::string::npos;
    return Status::BadInput(weights ? files.caffemodel_path : files.prototxt_path,
                            std::string("OpenCV's DNN module cannot read it as ") +
                                (weights ? "Caffe weights (a binary NetParameter)" : "a Caffe network description") +
                                ": " + e.err);
  }
  if (net.empty()) return Status::BadInput(files.prototxt_path, "OpenCV read no layers from it");
  Reader reader(files, net);
  try {
    return reader.Run(sink);
  } catch (const cv::Exception& e) {
    // In practice weights of other shapes than the prototxt's layers (another class count).
    return Status::BadInput(files.caffemodel_path, "OpenCV's DNN module failed on it (do its weights have the shapes " +
                                                       files.prototxt_path + " gives its layers?): " + e.err);
  }
}

}  // namespace alexnet::caffe
