#include "model/precision.h"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>

#include <tensorflow/core/protobuf/config.pb.h>
#include <tensorflow/core/protobuf/rewriter_config.pb.h>
#include <tensorflow/core/util/port.h>
#include <tsl/platform/cpu_info.h>

namespace alexnet::model {

bool CpuHasBf16() {
  const char* forced = std::getenv("ALEXNET_CPU_BF16");
  if (forced && std::strcmp(forced, "0") == 0) return false;
  using tsl::port::CPUFeature;
  return tsl::port::TestCPUFeature(CPUFeature::AVX512_BF16) || tsl::port::TestCPUFeature(CPUFeature::AMX_BF16);
}

Precision UsablePrecision(Precision requested) {
  if (requested != Precision::kBf16 || CpuHasBf16()) return requested;
  static std::once_flag said;
  std::call_once(said, [] {
    std::cerr << "alexnet: bf16 requested, but this CPU has no bf16 arithmetic (AVX512_BF16 or AMX_BF16); "
                 "running in fp32\n";
  });
  return Precision::kFp32;
}

const char* TensorFlowKernels() { return tensorflow::IsMklEnabled() ? "oneDNN" : "Eigen"; }

void ApplyPrecision(Precision precision, tensorflow::ConfigProto* config) {
  if (precision != Precision::kBf16) return;
  config->mutable_graph_options()->mutable_rewrite_options()->set_auto_mixed_precision_onednn_bfloat16(
      tensorflow::RewriterConfig::ON);
}

}  // namespace alexnet::model
