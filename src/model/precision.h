// Running the network in bf16: which CPUs can, and the session setting that does it.
//
// The graph is always built in float32. With Precision::kBf16 the session's ConfigProto turns on
// grappler's auto_mixed_precision_onednn_bfloat16 rewrite, which inserts casts so that
// convolutions, matrix products and their gradients run in bfloat16 (8 bits of mantissa, the
// exponent range of float32) while variables, the momentum update, LRN, softmax and the loss stay
// float32. Checkpoints therefore hold float32 either way and load in either precision.
#pragma once

#include <string>

#include "model/layers.h"

namespace tensorflow {
class ConfigProto;
}

namespace alexnet::model {

// True when the CPU has bf16 arithmetic (AVX512_BF16 or AMX_BF16), as TensorFlow detects it.
// The environment variable ALEXNET_CPU_BF16=0 makes it false (to try the fp32 fallback).
bool CpuHasBf16();

// The precision to run: `requested`, except bf16 on a CPU without bf16 arithmetic, which runs in
// fp32 (oneDNN would emulate bf16 there, slower than fp32). That fallback is said once per
// process on stderr.
Precision UsablePrecision(Precision requested);

// "oneDNN" when TensorFlow runs its oneDNN kernels (convolutions, matrix products, pooling and
// their gradients), else "Eigen". The `alexnet` program turns oneDNN on for every x86 CPU before
// TensorFlow loads (cli/start_environment.h); TF_ENABLE_ONEDNN_OPTS=0 turns it off.
const char* TensorFlowKernels();

// Sets (bf16) or leaves off (fp32) the mixed-precision rewrite in a session's configuration.
void ApplyPrecision(Precision precision, tensorflow::ConfigProto* config);

}  // namespace alexnet::model
