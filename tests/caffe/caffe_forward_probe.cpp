// caffe_forward_probe: OpenCV's DNN module running a Caffe network on images, the independent
// implementation the import is compared with (tests/caffe/import_test.cpp). Its own process:
// OpenCV's protobuf and TensorFlow's cannot share one.
//
//   caffe_forward_probe --prototxt P --weights W --out DIR (--mean-bgr B,G,R | --mean-image F.f32)
//                       IMAGE...
//
// Each image (256 x 256) is read as Caffe's tools read images (BGR, 0..255), the mean is
// subtracted (per channel, or the 3 x 256 x 256 BGR mean image of F.f32), and the central
// 227 x 227 crop (offset 14, as Caffe's test-phase crop) goes through the network in one batch.
// The outputs of the layers named in --layers (default relu1 norm1 pool2 relu5 relu7 prob) are
// written as DIR/<layer>.f32, float32 N x C x H x W (N x C for the fully connected ones).
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>

int main(int argc, char** argv) {
  CLI::App app{"OpenCV's DNN forward pass of a Caffe network, for the import tests"};
  std::string prototxt, weights, out, mean_image;
  std::vector<float> mean_bgr;
  std::vector<std::string> images, layers = {"relu1", "norm1", "pool2", "relu5", "relu7", "prob"};
  app.add_option("--prototxt", prototxt)->required();
  app.add_option("--weights", weights)->required();
  app.add_option("--out", out)->required();
  app.add_option("--mean-bgr", mean_bgr)->delimiter(',')->expected(3);
  app.add_option("--mean-image", mean_image);
  app.add_option("--layers", layers);
  app.add_option("images", images)->required();
  CLI11_PARSE(app, argc, argv);
  const int S = 256, C = 227, offset = (S - C) / 2;
  cv::Mat mean;  // S x S, CV_32FC3, BGR
  if (!mean_image.empty()) {
    std::vector<float> chw(3 * S * S);
    std::ifstream in(mean_image, std::ios::binary);
    in.read(reinterpret_cast<char*>(chw.data()), static_cast<std::streamsize>(chw.size() * sizeof(float)));
    if (!in) {
      std::cerr << "caffe_forward_probe: " << mean_image << ": short\n";
      return 1;
    }
    std::vector<cv::Mat> planes;
    for (int c = 0; c < 3; ++c) planes.push_back(cv::Mat(S, S, CV_32F, chw.data() + c * S * S).clone());
    cv::merge(planes, mean);
  } else if (mean_bgr.size() == 3) {
    mean = cv::Mat(S, S, CV_32FC3, cv::Scalar(mean_bgr[0], mean_bgr[1], mean_bgr[2]));
  } else {
    std::cerr << "caffe_forward_probe: give --mean-bgr or --mean-image\n";
    return 2;
  }
  std::vector<cv::Mat> crops;
  for (const std::string& path : images) {
    cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
    if (bgr.empty() || bgr.rows != S || bgr.cols != S) {
      std::cerr << "caffe_forward_probe: " << path << ": not a " << S << " x " << S << " image\n";
      return 1;
    }
    cv::Mat f;
    bgr.convertTo(f, CV_32FC3);
    f -= mean;
    crops.push_back(f(cv::Rect(offset, offset, C, C)).clone());
  }
  try {
    cv::dnn::Net net = cv::dnn::readNetFromCaffe(prototxt, weights);
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.enableFusion(false);  // each layer's own output, ReLUs not folded into the layer before
    net.setInput(cv::dnn::blobFromImages(crops, 1.0, cv::Size(), cv::Scalar(), /*swapRB=*/false, /*crop=*/false));
    std::vector<cv::Mat> outs;
    net.forward(outs, layers);
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const cv::Mat m = outs[i].isContinuous() ? outs[i] : outs[i].clone();
      std::ofstream o(out + "/" + layers[i] + ".f32", std::ios::binary);
      o.write(reinterpret_cast<const char*>(m.ptr<float>()), static_cast<std::streamsize>(m.total() * sizeof(float)));
      if (!o) {
        std::cerr << "caffe_forward_probe: writing " << layers[i] << " failed\n";
        return 1;
      }
    }
  } catch (const cv::Exception& e) {
    std::cerr << "caffe_forward_probe: OpenCV: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
