// fuzz_caffe_labels: the class names of `alexnet import caffe --labels` (caffe/mapping.h,
// ParseLabels): synset_words.txt lines or one name a line.
// Seeds: fuzz/corpus/fuzz_caffe_labels (synset_words.txt's form, plain names, CRLF).
#include <cstddef>
#include <cstdint>
#include <string>

#include "caffe/mapping.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto names = alexnet::caffe::ParseLabels(std::string(reinterpret_cast<const char*>(data), size), "labels.txt");
  if (names.ok()) {
    if (names->empty()) __builtin_trap();
    for (const std::string& n : *names) {
      if (n.empty() || n.find('\n') != std::string::npos) __builtin_trap();
    }
  }
  return 0;
}
