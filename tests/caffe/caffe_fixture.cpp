// caffe_fixture: writes Caffe files of bvlc_alexnet's formats with random weights, for the import
// tests (the real 233 MB model cannot be downloaded here). Its own process: it uses Debian's
// protobuf (with Caffe's schema, src/caffe/caffe.proto), which cannot share a process with
// TensorFlow.
//
//   caffe_fixture --out DIR [--classes 1000] [--images 6] [--seed 1] [--variant NAME]
//
// Without --variant, DIR gets what a user downloads, in both of Caffe's formats:
//   deploy.prototxt, bvlc_alexnet.caffemodel          current format (`layer`, blobs with shape)
//   deploy_v1.prototxt, bvlc_alexnet_v1.caffemodel    legacy V1 (`layers`, 4-D num/channels/...)
//   imagenet_mean.binaryproto                         a 256 x 256 BGR mean image (legacy 4-D)
//   imagenet_mean_100.binaryproto                     a 100 x 100 one (too small for 227 crops)
//   mean_bgr_chw.f32                                  the same mean as raw floats (for the probe)
//   synset_words.txt                                  "n00000000 class 0, zero" lines
//   images/photo_<i>.png                              photo-like 256 x 256 colour images
// With --variant NAME, a network that is not the seed table's, with weights of its own shapes:
// deploy_NAME.prototxt and NAME.caffemodel (names: conv2_kernel3, no_norm2, extra_conv6,
// conv1_64, caffenet).
//
// Weights are He-scaled (N(0, 2 / fan_in)), conv1's too, so that its outputs are of the inputs'
// scale (tens of grey levels): the LRN layers then divide by clearly more than 1, every layer's
// activations keep their scale, and the softmax is peaked but not one-hot (fc8 scaled by
// --fc8-scale).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "caffe.pb.h"

namespace {

struct Layer {
  std::string name, type;  // Caffe's type names (current format)
  std::string bottom, top;
  int num_output = 0, kernel = 0, stride = 1, pad = 0, group = 1;
  // filled in by Shapes(): the input's channels and size
  int in_c = 0, in_hw = 0, out_hw = 0;
};

std::vector<Layer> AlexNet(int classes, const std::string& variant) {
  std::vector<Layer> L = {
      {"conv1", "Convolution", "data", "conv1", 96, 11, 4, 0, 1},
      {"relu1", "ReLU", "conv1", "conv1"},
      {"norm1", "LRN", "conv1", "norm1"},
      {"pool1", "Pooling", "norm1", "pool1", 0, 3, 2},
      {"conv2", "Convolution", "pool1", "conv2", 256, 5, 1, 2, 2},
      {"relu2", "ReLU", "conv2", "conv2"},
      {"norm2", "LRN", "conv2", "norm2"},
      {"pool2", "Pooling", "norm2", "pool2", 0, 3, 2},
      {"conv3", "Convolution", "pool2", "conv3", 384, 3, 1, 1, 1},
      {"relu3", "ReLU", "conv3", "conv3"},
      {"conv4", "Convolution", "conv3", "conv4", 384, 3, 1, 1, 2},
      {"relu4", "ReLU", "conv4", "conv4"},
      {"conv5", "Convolution", "conv4", "conv5", 256, 3, 1, 1, 2},
      {"relu5", "ReLU", "conv5", "conv5"},
      {"pool5", "Pooling", "conv5", "pool5", 0, 3, 2},
      {"fc6", "InnerProduct", "pool5", "fc6", 4096},
      {"relu6", "ReLU", "fc6", "fc6"},
      {"drop6", "Dropout", "fc6", "fc6"},
      {"fc7", "InnerProduct", "fc6", "fc7", 4096},
      {"relu7", "ReLU", "fc7", "fc7"},
      {"drop7", "Dropout", "fc7", "fc7"},
      {"fc8", "InnerProduct", "fc7", "fc8", classes},
      {"prob", "Softmax", "fc8", "prob"},
  };
  auto find = [&](const std::string& name) -> std::size_t {
    for (std::size_t i = 0; i < L.size(); ++i) {
      if (L[i].name == name) return i;
    }
    return L.size();
  };
  if (variant == "conv2_kernel3") {
    L[find("conv2")].kernel = 3;
    L[find("conv2")].pad = 1;
  } else if (variant == "no_norm2") {
    L.erase(L.begin() + static_cast<long>(find("norm2")));
    L[find("pool2")].bottom = "conv2";
  } else if (variant == "extra_conv6") {
    const std::size_t at = find("pool5");
    L.insert(L.begin() + static_cast<long>(at), {{"conv6", "Convolution", "conv5", "conv6", 256, 3, 1, 1, 1},
                                                  {"relu6b", "ReLU", "conv6", "conv6"}});
    L[find("pool5")].bottom = "conv6";
  } else if (variant == "conv1_64") {
    L[find("conv1")].num_output = 64;
  } else if (variant == "caffenet") {  // bvlc_reference_caffenet: pooling before normalisation
    std::swap(L[find("norm1")], L[find("pool1")]);
    L[find("pool1")].bottom = "conv1";
    L[find("norm1")].bottom = "pool1";
    L[find("norm1")].top = "norm1";
    L[find("conv2")].bottom = "norm1";
  } else if (!variant.empty()) {
    std::cerr << "caffe_fixture: unknown variant " << variant << "\n";
    std::exit(2);
  }
  // Shapes for the weights.
  int c = 3, hw = 227;
  for (Layer& l : L) {
    l.in_c = c;
    l.in_hw = hw;
    if (l.type == "Convolution") {
      hw = (hw + 2 * l.pad - l.kernel) / l.stride + 1;
      c = l.num_output;
    } else if (l.type == "Pooling") {
      hw = (hw - l.kernel + l.stride - 1) / l.stride + 1;  // Caffe rounds up
    } else if (l.type == "InnerProduct") {
      hw = 1;
      c = l.num_output;
    }
    l.out_hw = hw;
  }
  return L;
}

std::string Prototxt(const std::vector<Layer>& layers, bool v1) {
  std::string s = "name: \"AlexNet\"\n";
  s += v1 ? "input: \"data\"\ninput_dim: 10\ninput_dim: 3\ninput_dim: 227\ninput_dim: 227\n"
          : "layer {\n  name: \"data\"\n  type: \"Input\"\n  top: \"data\"\n"
            "  input_param { shape: { dim: 10 dim: 3 dim: 227 dim: 227 } }\n}\n";
  auto v1_type = [](const std::string& t) {
    return t == "Convolution" ? "CONVOLUTION" : t == "ReLU" ? "RELU" : t == "LRN" ? "LRN" : t == "Pooling" ? "POOLING"
         : t == "InnerProduct" ? "INNER_PRODUCT" : t == "Dropout" ? "DROPOUT" : "SOFTMAX";
  };
  for (const Layer& l : layers) {
    s += v1 ? "layers {\n" : "layer {\n";
    s += "  name: \"" + l.name + "\"\n";
    s += v1 ? std::string("  type: ") + v1_type(l.type) + "\n" : "  type: \"" + l.type + "\"\n";
    s += "  bottom: \"" + l.bottom + "\"\n  top: \"" + l.top + "\"\n";
    if (l.type == "Convolution") {
      s += "  convolution_param {\n    num_output: " + std::to_string(l.num_output) + "\n";
      if (l.pad) s += "    pad: " + std::to_string(l.pad) + "\n";
      s += "    kernel_size: " + std::to_string(l.kernel) + "\n";
      if (l.stride != 1) s += "    stride: " + std::to_string(l.stride) + "\n";
      if (l.group != 1) s += "    group: " + std::to_string(l.group) + "\n";
      s += "  }\n";
    } else if (l.type == "LRN") {
      s += "  lrn_param {\n    local_size: 5\n    alpha: 0.0001\n    beta: 0.75\n  }\n";
    } else if (l.type == "Pooling") {
      s += "  pooling_param {\n    pool: MAX\n    kernel_size: " + std::to_string(l.kernel) +
           "\n    stride: " + std::to_string(l.stride) + "\n  }\n";
    } else if (l.type == "InnerProduct") {
      s += "  inner_product_param {\n    num_output: " + std::to_string(l.num_output) + "\n  }\n";
    } else if (l.type == "Dropout") {
      s += "  dropout_param {\n    dropout_ratio: 0.5\n  }\n";
    }
    s += "}\n";
  }
  return s;
}

// One blob: the current format's shape, or V1's legacy 4-D fields (weights 1 x 1 x out x in and
// biases 1 x 1 x 1 x n for InnerProduct, as Caffe wrote them).
void FillBlob(alexnet_caffe::BlobProto* b, std::vector<int64_t> shape, const std::vector<float>& v, bool v1) {
  if (v1) {
    while (shape.size() < 4) shape.insert(shape.begin(), 1);
    b->set_num(static_cast<int>(shape[0]));
    b->set_channels(static_cast<int>(shape[1]));
    b->set_height(static_cast<int>(shape[2]));
    b->set_width(static_cast<int>(shape[3]));
  } else {
    for (const int64_t d : shape) b->mutable_shape()->add_dim(d);
  }
  b->mutable_data()->Add(v.begin(), v.end());
}

bool WriteModel(const std::vector<Layer>& layers, bool v1, unsigned seed, float fc8_scale, const std::string& path) {
  std::mt19937 rng(seed);
  alexnet_caffe::NetParameter net;
  net.set_name("AlexNet");
  for (const Layer& l : layers) {
    const bool conv = l.type == "Convolution", fc = l.type == "InnerProduct";
    std::vector<int64_t> wshape;
    int64_t fan_in = 0;
    if (conv) {
      wshape = {l.num_output, l.in_c / l.group, l.kernel, l.kernel};
      fan_in = int64_t(l.in_c / l.group) * l.kernel * l.kernel;
    } else if (fc) {
      fan_in = int64_t(l.in_c) * l.in_hw * l.in_hw;
      wshape = {l.num_output, fan_in};
    }
    std::vector<float> w, b;
    if (conv || fc) {
      double stddev = std::sqrt(2.0 / static_cast<double>(fan_in));
      if (l.name == "fc8") stddev *= fc8_scale;
      std::normal_distribution<float> normal(0.0f, static_cast<float>(stddev));
      w.resize(static_cast<std::size_t>(wshape[0] * fan_in));
      for (float& x : w) x = normal(rng);
      std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
      b.resize(static_cast<std::size_t>(l.num_output));
      for (float& x : b) x = uniform(rng);
    }
    if (v1) {
      auto* p = net.add_layers();
      p->set_name(l.name);
      const std::string& t = l.type;
      using V1 = alexnet_caffe::V1LayerParameter;
      p->set_type(t == "Convolution" ? V1::CONVOLUTION : t == "ReLU" ? V1::RELU : t == "LRN" ? V1::LRN
                  : t == "Pooling" ? V1::POOLING : t == "InnerProduct" ? V1::INNER_PRODUCT
                  : t == "Dropout" ? V1::DROPOUT : V1::SOFTMAX);
      p->add_bottom(l.bottom);
      p->add_top(l.top);
      if (conv || fc) {
        FillBlob(p->add_blobs(), conv ? wshape : std::vector<int64_t>{1, 1, wshape[0], wshape[1]}, w, true);
        FillBlob(p->add_blobs(), {1, 1, 1, l.num_output}, b, true);
      }
    } else {
      auto* p = net.add_layer();
      p->set_name(l.name);
      p->set_type(l.type);
      p->add_bottom(l.bottom);
      p->add_top(l.top);
      if (conv || fc) {
        FillBlob(p->add_blobs(), wshape, w, false);
        FillBlob(p->add_blobs(), {l.num_output}, b, false);
      }
    }
  }
  std::ofstream out(path, std::ios::binary);
  return net.SerializeToOstream(&out) && out.good();
}

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return out.good();
}

// A smooth 256 x 256 BGR mean image around Caffe's 104, 117, 123.
std::vector<float> MeanBgrChw() {
  const int S = 256;
  std::vector<float> m(3 * S * S);
  const float base[3] = {104.0f, 117.0f, 123.0f};
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < S; ++y) {
      for (int x = 0; x < S; ++x) {
        m[static_cast<std::size_t>((c * S + y) * S + x)] =
            base[c] + 12.0f * std::sin(0.02f * static_cast<float>(x + 2 * c)) * std::cos(0.015f * static_cast<float>(y));
      }
    }
  }
  return m;
}

// Photo-like: a gradient sky, shapes of random colours, blur and sensor noise.
cv::Mat Photo(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u8(0, 255), pos(0, 255), radius(10, 90);
  cv::Mat img(256, 256, CV_8UC3);
  const cv::Vec3b a(static_cast<uchar>(u8(rng)), static_cast<uchar>(u8(rng)), static_cast<uchar>(u8(rng)));
  const cv::Vec3b b(static_cast<uchar>(u8(rng)), static_cast<uchar>(u8(rng)), static_cast<uchar>(u8(rng)));
  for (int y = 0; y < 256; ++y) {
    for (int x = 0; x < 256; ++x) {
      const float t = static_cast<float>(x + y) / 510.0f;
      for (int c = 0; c < 3; ++c) img.at<cv::Vec3b>(y, x)[c] = static_cast<uchar>(a[c] * (1 - t) + b[c] * t);
    }
  }
  for (int i = 0; i < 8; ++i) {
    const cv::Scalar colour(u8(rng), u8(rng), u8(rng));
    if (i % 2) {
      cv::ellipse(img, cv::Point(pos(rng), pos(rng)), cv::Size(radius(rng), radius(rng)), u8(rng), 0, 360, colour, -1);
    } else {
      cv::rectangle(img, cv::Rect(pos(rng), pos(rng), radius(rng), radius(rng)), colour, -1);
    }
  }
  cv::GaussianBlur(img, img, cv::Size(5, 5), 1.5);
  cv::Mat noise(img.size(), CV_16SC3);
  cv::randn(noise, 0, 6);
  cv::Mat noisy;
  img.convertTo(noisy, CV_16SC3);
  noisy += noise;
  noisy.convertTo(img, CV_8UC3);
  return img;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Caffe files of bvlc_alexnet's formats with random weights, for the import tests"};
  std::string out, variant;
  int classes = 1000, images = 6;
  unsigned seed = 1;
  float fc8_scale = 0.1f;
  app.add_option("--out", out, "existing folder")->required();
  app.add_option("--classes", classes);
  app.add_option("--images", images);
  app.add_option("--seed", seed);
  app.add_option("--variant", variant);
  app.add_option("--fc8-scale", fc8_scale);
  CLI11_PARSE(app, argc, argv);
  const std::vector<Layer> layers = AlexNet(classes, variant);
  bool ok = true;
  if (!variant.empty()) {
    ok = WriteText(out + "/deploy_" + variant + ".prototxt", Prototxt(layers, false)) &&
         WriteModel(layers, false, seed, fc8_scale, out + "/" + variant + ".caffemodel");
  } else {
    ok = WriteText(out + "/deploy.prototxt", Prototxt(layers, false)) &&
         WriteText(out + "/deploy_v1.prototxt", Prototxt(layers, true)) &&
         WriteModel(layers, false, seed, fc8_scale, out + "/bvlc_alexnet.caffemodel") &&
         WriteModel(layers, true, seed, fc8_scale, out + "/bvlc_alexnet_v1.caffemodel");
    const std::vector<float> mean = MeanBgrChw();
    alexnet_caffe::BlobProto blob;
    FillBlob(&blob, {1, 3, 256, 256}, mean, true);
    std::ofstream mean_out(out + "/imagenet_mean.binaryproto", std::ios::binary);
    ok = ok && blob.SerializeToOstream(&mean_out);
    alexnet_caffe::BlobProto small;  // a mean of the wrong size for the refusal test
    FillBlob(&small, {1, 3, 100, 100}, std::vector<float>(3 * 100 * 100, 110.0f), true);
    std::ofstream small_out(out + "/imagenet_mean_100.binaryproto", std::ios::binary);
    ok = ok && small.SerializeToOstream(&small_out);
    std::ofstream raw(out + "/mean_bgr_chw.f32", std::ios::binary);
    raw.write(reinterpret_cast<const char*>(mean.data()), static_cast<std::streamsize>(mean.size() * sizeof(float)));
    std::string words;
    for (int i = 0; i < classes; ++i) words += "n" + std::to_string(10000000 + i).substr(0, 8) + " class " + std::to_string(i) + ", number " + std::to_string(i) + "\n";
    ok = ok && raw.good() && WriteText(out + "/synset_words.txt", words);
    std::filesystem::create_directories(out + "/images");
    for (int i = 0; i < images; ++i) {
      ok = ok && cv::imwrite(out + "/images/photo_" + std::to_string(i) + ".png", Photo(seed * 1000 + static_cast<unsigned>(i)));
    }
  }
  if (!ok) {
    std::cerr << "caffe_fixture: writing into " << out << " failed\n";
    return 1;
  }
  return 0;
}
