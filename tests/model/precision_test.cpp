// bf16 mixed precision computes the same network: one training step in bf16 against the same
// step in fp32, and proof that the graph TensorFlow really ran holds bf16 ops (so these tests
// fail if the grappler rewrite silently does nothing).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <tensorflow/core/framework/graph.pb.h>
#include <tensorflow/core/framework/node_def.pb.h>

#include "model/precision.h"
#include "session_util.h"

namespace alexnet::model {
namespace {

using tensorflow::Tensor;

SessionConfig SmallTraining(Precision precision) {
  SessionConfig c;
  c.training = true;
  c.model.num_classes = 10;
  c.model.input_size = 99;
  c.model.dropout_rate = 0;  // the same forward pass on both sides
  c.model.init = Init::kHe;  // gradients of a useful size everywhere (the paper's 0.01 vanishes at 99 px)
  c.model.input_stddev = 50;
  c.model.precision = precision;
  return c;
}

// Images whose class shows in them (a bright quadrant of one colour channel, plus noise), so that
// the examples' gradients agree in direction as in real training. With random labels they mostly
// cancel, and the small sum left over in the early layers is dominated by rounding.
struct Batch {
  static constexpr int kImages = 16, kSide = 99;
  Tensor images{tensorflow::DT_FLOAT, {kImages, kSide, kSide, 3}};
  Tensor labels{tensorflow::DT_INT32, {kImages}};
  explicit Batch(unsigned seed = 7) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, 20.0f);
    auto px = images.tensor<float, 4>();
    for (int n = 0; n < kImages; ++n) {
      const int label = n % 4;  // quadrant `label`, channel `label % 3`
      labels.flat<int32_t>()(n) = label;
      for (int y = 0; y < kSide; ++y) {
        for (int x = 0; x < kSide; ++x) {
          const int quadrant = (y >= kSide / 2) * 2 + (x >= kSide / 2);
          for (int c = 0; c < 3; ++c) px(n, y, x, c) = noise(rng) + (quadrant == label && c == label % 3 ? 80 : -20);
        }
      }
    }
  }
};

std::map<std::string, Tensor> Parameters(ModelSession* m) {
  std::vector<std::pair<std::string, Tensor>> list;
  EXPECT_TRUE(m->ReadParameters(&list).ok());
  return {list.begin(), list.end()};
}

// ||a - b|| / ||b|| over all elements (||a - b|| when b is all zeros, as He's initial biases).
double RelativeDifference(const Tensor& a, const Tensor& b) {
  double diff = 0, norm = 0;
  for (int64_t i = 0; i < b.NumElements(); ++i) {
    const double d = a.flat<float>()(i) - b.flat<float>()(i);
    diff += d * d;
    norm += double(b.flat<float>()(i)) * b.flat<float>()(i);
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

// op -> data type of its "T" attribute, for every node of the graphs a traced step ran.
std::multimap<std::string, tensorflow::DataType> OpTypes(const tensorflow::RunMetadata& trace) {
  std::multimap<std::string, tensorflow::DataType> types;
  for (const tensorflow::GraphDef& g : trace.partition_graphs()) {
    for (const tensorflow::NodeDef& n : g.node()) {
      const auto t = n.attr().find("T");
      if (t != n.attr().end()) types.emplace(n.op(), t->second.type());
    }
  }
  return types;
}

// Whether an op whose name contains `op` ran with data type `type`. After grappler, oneDNN's
// layout pass renames the kernels (Conv2D -> _MklNativeFusedConv2D, MatMul -> _MklMatMul).
bool Has(const std::multimap<std::string, tensorflow::DataType>& types, const std::string& op,
         tensorflow::DataType type) {
  for (const auto& [name, t] : types) {
    if (t == type && name.find(op) != std::string::npos) return true;
  }
  return false;
}

class Bf16 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 arithmetic (AVX512_BF16 / AMX_BF16)";
  }
};

// The update of one SGD step (new weights - initial weights) for every parameter.
std::map<std::string, Tensor> Updates(ModelSession* m, const Batch& batch) {
  const auto before = Parameters(m);
  StepResult r;
  EXPECT_TRUE(m->TrainStep(batch.images, batch.labels, 0.01f, &r).ok());
  std::map<std::string, Tensor> updates;
  for (const auto& [name, after] : Parameters(m)) {
    Tensor d(tensorflow::DT_FLOAT, after.shape());
    d.flat<float>() = after.flat<float>() - before.at(name).flat<float>();
    updates.emplace(name, d);
  }
  return updates;
}

// One SGD step in bf16 against the same step in fp32, from the same weights on the same batch.
// The yardstick is SGD's own noise: the same step on another batch of the same kind. bf16's
// rounding (8-bit mantissas, about 0.4 % per value) grows as it is propagated back through the
// layers, but it must change every parameter's update less than half as much as drawing another
// batch does; the loss agrees to 1 %.
TEST_F(Bf16, OneTrainingStepMatchesFp32) {
  auto fp32 = InitializedSession(SmallTraining(Precision::kFp32));
  auto bf16 = InitializedSession(SmallTraining(Precision::kBf16));
  auto other_batch = InitializedSession(SmallTraining(Precision::kFp32));
  ASSERT_TRUE(fp32 && bf16 && other_batch);
  ASSERT_EQ(bf16->config().model.precision, Precision::kBf16);
  const auto initial = Parameters(fp32.get());
  for (const auto& [name, value] : Parameters(bf16.get())) {
    ASSERT_EQ(RelativeDifference(value, initial.at(name)), 0) << name << ": the same seed, the same weights";
  }
  const Batch batch, another(8);
  StepResult r32, r16;
  ASSERT_TRUE(fp32->EvalStep(batch.images, batch.labels, &r32).ok());
  ASSERT_TRUE(bf16->EvalStep(batch.images, batch.labels, &r16).ok());
  EXPECT_NEAR(r16.loss, r32.loss, 0.01 * r32.loss);
  const auto step32 = Updates(fp32.get(), batch), step16 = Updates(bf16.get(), batch);
  const auto sampling = Updates(other_batch.get(), another);
  double largest = 0;
  for (const auto& [name, update] : step32) {
    const double bf16_error = RelativeDifference(step16.at(name), update);
    const double batch_noise = RelativeDifference(sampling.at(name), update);
    std::cout << name << ": bf16 vs fp32 " << bf16_error << ", another batch " << batch_noise << "\n";
    EXPECT_LT(bf16_error, 0.5 * batch_noise) << name;
    EXPECT_LT(bf16_error, 0.25) << name;
    largest = std::max(largest, bf16_error);
  }
  // bf16 really ran: an update identical to fp32's would mean the rewrite did nothing.
  EXPECT_GT(largest, 1e-4);
}

// After grappler: convolutions, matrix products and their gradients in bf16; LRN, softmax
// cross-entropy and the momentum update in fp32. The fp32 session has no bf16 op at all.
TEST_F(Bf16, TheGraphThatRanHoldsBf16Ops) {
  auto fp32 = InitializedSession(SmallTraining(Precision::kFp32));
  auto bf16 = InitializedSession(SmallTraining(Precision::kBf16));
  ASSERT_TRUE(fp32 && bf16);
  const Batch batch;
  StepResult r;
  tensorflow::RunMetadata trace16, trace32;
  ASSERT_TRUE(bf16->TrainStep(batch.images, batch.labels, 0.01f, &r, &trace16).ok());
  ASSERT_TRUE(fp32->TrainStep(batch.images, batch.labels, 0.01f, &r, &trace32).ok());
  const auto types = OpTypes(trace16);
  for (const char* op : {"Conv2D", "MatMul", "Conv2DBackpropFilter", "Conv2DBackpropInput"}) {
    EXPECT_TRUE(Has(types, op, tensorflow::DT_BFLOAT16)) << op << " not in bf16";
  }
  for (const char* op : {"LRN", "LRNGrad", "ApplyMomentum", "SoftmaxCrossEntropyWithLogits", "L2Loss"}) {
    EXPECT_TRUE(Has(types, op, tensorflow::DT_FLOAT)) << op << " did not run in fp32";
    EXPECT_FALSE(Has(types, op, tensorflow::DT_BFLOAT16)) << op << " should stay fp32";
  }
  for (const auto& [op, type] : OpTypes(trace32)) EXPECT_NE(type, tensorflow::DT_BFLOAT16) << op;
}

// Checkpoints hold fp32 variables in either precision, so one saved in bf16 restores in fp32.
TEST_F(Bf16, CheckpointOfOnePrecisionLoadsInTheOther) {
  auto bf16 = InitializedSession(SmallTraining(Precision::kBf16));
  ASSERT_TRUE(bf16);
  const Batch batch;
  StepResult r;
  ASSERT_TRUE(bf16->TrainStep(batch.images, batch.labels, 0.01f, &r).ok());
  const std::string prefix = ::testing::TempDir() + "/bf16-ckpt";
  ASSERT_TRUE(bf16->Save(prefix).ok());
  auto fp32 = InitializedSession(SmallTraining(Precision::kFp32));
  ASSERT_TRUE(fp32);
  const Status restored = fp32->Restore(prefix);
  ASSERT_TRUE(restored.ok()) << restored.message();
  const auto a = Parameters(bf16.get()), b = Parameters(fp32.get());
  for (const auto& [name, value] : a) EXPECT_EQ(RelativeDifference(b.at(name), value), 0) << name;
}

// The same step from the same weights on the same batch gives the same update, bit for bit, in
// two sessions: no variable is updated while the backward pass still reads it (the
// gradients_ready gate in session.cpp; without it conv1's update differed by 10 % or more).
TEST(TrainingStep, IsTheSameInTwoSessions) {
  for (Precision precision : {Precision::kFp32, Precision::kBf16}) {
    if (precision == Precision::kBf16 && !CpuHasBf16()) continue;
    auto a = InitializedSession(SmallTraining(precision));
    auto b = InitializedSession(SmallTraining(precision));
    ASSERT_TRUE(a && b);
    const Batch batch;
    const auto step_a = Updates(a.get(), batch), step_b = Updates(b.get(), batch);
    for (const auto& [name, update] : step_a) {
      EXPECT_EQ(RelativeDifference(step_b.at(name), update), 0) << name << " in " << PrecisionName(precision);
    }
  }
}

// The update gate, read from the GraphDef (not from the code that builds it): each variable's
// ApplyMomentum depends on every op of the step that reads the variable, so that none can read a
// partly updated weight (IsTheSameInTwoSessions shows the effect; this shows the cause is gone).
TEST(TrainingStep, EachUpdateWaitsForEveryOpThatReadsItsVariable) {
  SessionConfig config = SmallTraining(Precision::kFp32);
  auto created = ModelSession::Create(config);
  ASSERT_TRUE(created.ok()) << created.status().message();
  const tensorflow::GraphDef& g = created.value()->graph_def();
  std::map<std::string, const tensorflow::NodeDef*> by_name;
  for (const auto& n : g.node()) by_name[n.name()] = &n;
  auto source = [](std::string in) {  // "^a" or "a:1" -> "a"
    if (!in.empty() && in[0] == '^') in.erase(0, 1);
    return in.substr(0, in.find(':'));
  };
  auto ancestors = [&](const std::string& from) {
    std::set<std::string> seen;
    std::vector<std::string> todo = {from};
    while (!todo.empty()) {
      const std::string n = todo.back();
      todo.pop_back();
      if (!seen.insert(n).second) continue;
      for (const std::string& in : by_name.at(n)->input()) todo.push_back(source(in));
    }
    return seen;
  };
  std::map<std::string, std::string> update_of;  // variable -> its ApplyMomentum
  for (const auto& n : g.node()) {
    if (n.op() == "ApplyMomentum") update_of[source(n.input(0))] = n.name();
  }
  ASSERT_EQ(update_of.size(), 16u) << "weights and biases of 8 layers";
  const auto step = ancestors("train");
  for (const auto& [var, update] : update_of) {
    const auto before_update = ancestors(update);
    int readers = 0;
    for (const auto& n : g.node()) {
      if (n.name() == update || !step.count(n.name())) continue;
      for (const std::string& in : n.input()) {
        if (in[0] == '^' || source(in) != var) continue;
        ++readers;
        EXPECT_TRUE(before_update.count(n.name())) << n.name() << " (" << n.op() << ") reads " << var
                                                   << " but may run after or during its update";
      }
    }
    // Weights: the forward op, L2Loss, weight decay's gradient (and, above conv1, the input
    // gradient); biases: the forward op.
    const bool weights = var.size() > 8 && var.compare(var.size() - 8, 8, "/weights") == 0;
    EXPECT_GE(readers, weights ? 3 : 1) << var;
  }
}

// Without bf16 arithmetic the session runs in fp32 (and says so once on stderr).
TEST(Precision, FallsBackToFp32WithoutBf16Arithmetic) {
  ::setenv("ALEXNET_CPU_BF16", "0", 1);
  auto m = InitializedSession(SmallTraining(Precision::kBf16));
  ::unsetenv("ALEXNET_CPU_BF16");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->config().model.precision, Precision::kFp32);
}

}  // namespace
}  // namespace alexnet::model
