// `alexnet time`: every op of a traced training step lands in a row, and the gradient ops (which
// TensorFlow names without their layer) are attributed to the layers they differentiate.
#include <gtest/gtest.h>

#include <string>

#include "model/precision.h"
#include "model/timing.h"

namespace alexnet::model {
namespace {

void ExpectEveryLayerTimed(Precision precision) {
  TimingOptions o;
  o.model.num_classes = 10;
  o.model.input_size = 67;
  o.model.precision = precision;
  o.batch = 2;
  o.iterations = 1;
  auto timed = TimeLayers(o);
  ASSERT_TRUE(timed.ok()) << timed.status().message();
  const TimingReport& t = timed.value();
  EXPECT_EQ(t.precision, precision);
  const auto& layers = AlexNetLayers();
  ASSERT_EQ(t.rows.size(), layers.size() + 3);  // the table, then loss, update, other
  double sum = 0, other = 0;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const LayerTime& r = t.rows[i];
    sum += r.forward_ms + r.backward_ms;
    if (i >= layers.size()) {
      if (r.layer == "other") other = r.forward_ms + r.backward_ms;
      continue;
    }
    EXPECT_EQ(r.layer, layers[i].name);
    EXPECT_GT(r.forward_ms, 0) << r.layer;
    EXPECT_GT(r.backward_ms, 0) << r.layer << ": its gradient ops were not found";
    const bool has_weights = layers[i].kind == LayerKind::kConv || layers[i].kind == LayerKind::kFullyConnected;
    EXPECT_EQ(r.macs > 0, has_weights) << r.layer;
  }
  EXPECT_NEAR(sum, t.op_time_ms, 1e-6 * t.op_time_ms) << "an op of the trace is missing from the rows";
  // Ops that ran side by side would each count the time they shared: the sum would exceed the step.
  EXPECT_LE(t.op_time_ms, t.traced_step_ms) << "traced ops overlapped: their times are not their own";
  EXPECT_LT(other, 0.2 * sum) << "most ops should belong to a layer, the loss or the update";
  EXPECT_GT(t.TrainImagesPerSecond(), 0);
  EXPECT_GT(t.InferenceImagesPerSecond(), 0);
  const std::string table = FormatTiming(t);
  for (const LayerSpec& spec : layers) EXPECT_NE(table.find(spec.name), std::string::npos) << spec.name;
}

TEST(TimeLayers, EveryLayerHasForwardAndBackwardTimeInFp32) { ExpectEveryLayerTimed(Precision::kFp32); }

TEST(TimeLayers, EveryLayerHasForwardAndBackwardTimeInBf16) {
  if (!CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 arithmetic";
  ExpectEveryLayerTimed(Precision::kBf16);
}

}  // namespace
}  // namespace alexnet::model
