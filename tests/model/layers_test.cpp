// The layer table's derived columns without TensorFlow (model/layers.h): receptive field, jump
// and activation memory, against numbers worked out by hand and typed here independently.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/layers.h"
#include "util/format.h"

namespace alexnet::model {
namespace {

struct Expected {
  std::string name;
  int field;  // receptive field side, input pixels; 0 = the whole input (fully connected)
  int jump;
  int64_t bytes;  // fp32 output of one image
};

std::vector<LayerShape> Shapes(const ModelOptions& o) {
  Result<std::vector<LayerShape>> shapes = ComputeLayerShapes(o);
  EXPECT_TRUE(shapes.ok()) << shapes.status().message();
  return shapes.ok() ? shapes.value() : std::vector<LayerShape>{};
}

void ExpectFields(const std::vector<LayerShape>& shapes, const std::vector<Expected>& expected, int input_size) {
  ASSERT_EQ(shapes.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const LayerShape& s = shapes[i];
    const Expected& e = expected[i];
    EXPECT_EQ(s.spec.name, e.name);
    if (e.field == 0) {
      EXPECT_TRUE(s.field.whole_input) << e.name;
      EXPECT_EQ(s.field.size, input_size) << e.name;
      EXPECT_EQ(ReceptiveFieldText(s.field), "all") << e.name;
      EXPECT_EQ(JumpText(s.field), "") << e.name;
    } else {
      EXPECT_FALSE(s.field.whole_input) << e.name;
      EXPECT_EQ(s.field.size, e.field) << e.name;
      EXPECT_EQ(s.field.jump, e.jump) << e.name;
      EXPECT_EQ(ReceptiveFieldText(s.field), std::to_string(e.field)) << e.name;
      EXPECT_EQ(JumpText(s.field), std::to_string(e.jump)) << e.name;
    }
    EXPECT_EQ(s.activation_bytes, e.bytes) << e.name;
  }
}

// rf_out = rf_in + (k - 1) * jump_in, jump_out = jump_in * stride, from rf 1 and jump 1 at the input.
// torchvision's AlexNet, counted by hand from torchvision.models.alexnet: 61,100,840 parameters.
TEST(TorchvisionTable, ParametersAndShapesAt224) {
  ModelOptions o;
  o.architecture = Architecture::kTorchvision;
  o.input_size = DefaultInputSize(o.architecture);
  EXPECT_EQ(o.input_size, 224);
  const Result<std::vector<LayerShape>> shapes = ComputeLayerShapes(o);
  ASSERT_TRUE(shapes.ok()) << shapes.status().message();
  int64_t params = 0;
  std::vector<std::string> names;
  for (const LayerShape& s : *shapes) {
    params += s.params;
    names.push_back(s.spec.name);
  }
  EXPECT_EQ(params, 23296 + 307392 + 663936 + 884992 + 590080 + 37752832 + 16781312 + 4097000);
  EXPECT_EQ(params, 61100840);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8"}));
  EXPECT_EQ(shapes->front().out_h, 55);  // (224 + 2 * 2 - 11) / 4 + 1
  EXPECT_EQ((*shapes)[7].out_h, 6);      // pool5: torchvision's adaptive 6 x 6 pooling is the identity
  // Dropout where torchvision has it: before fc6 (after pool5) and before fc7 (after fc6).
  EXPECT_TRUE((*shapes)[7].spec.dropout);
  EXPECT_TRUE((*shapes)[8].spec.dropout);
  EXPECT_FALSE((*shapes)[9].spec.dropout);
  for (const int size : {223, 254}) {
    o.input_size = size;
    EXPECT_TRUE(ComputeLayerShapes(o).ok()) << size;
  }
  for (const int size : {222, 255, 99}) {
    o.input_size = size;
    EXPECT_FALSE(ComputeLayerShapes(o).ok()) << size;  // pool5 not 6 x 6: the adaptive pooling is not the identity
  }
}

TEST(ReceptiveField, ThePapersNetworkAt227) {
  ExpectFields(Shapes(ModelOptions{}),
               {
                   {"conv1", 11, 4, 55 * 55 * 96 * 4},   // 1 + 10 * 1
                   {"lrn1", 11, 4, 55 * 55 * 96 * 4},    // across channels: no change
                   {"pool1", 19, 8, 27 * 27 * 96 * 4},   // 11 + 2 * 4
                   {"conv2", 51, 8, 27 * 27 * 256 * 4},  // 19 + 4 * 8
                   {"lrn2", 51, 8, 27 * 27 * 256 * 4},
                   {"pool2", 67, 16, 13 * 13 * 256 * 4},  // 51 + 2 * 8
                   {"conv3", 99, 16, 13 * 13 * 384 * 4},  // 67 + 2 * 16
                   {"conv4", 131, 16, 13 * 13 * 384 * 4},
                   {"conv5", 163, 16, 13 * 13 * 256 * 4},
                   {"pool5", 195, 32, 6 * 6 * 256 * 4},  // 163 + 2 * 16
                   {"fc6", 0, 0, 4096 * 4},
                   {"fc7", 0, 0, 4096 * 4},
                   {"fc8", 0, 0, 1000 * 4},
               },
               227);
}

// The field does not depend on the input size (it can exceed a small input: padding counts), and
// the variants' pooling windows change it: 2 x 2 windows grow it by one jump instead of two.
TEST(ReceptiveField, TwoByTwoPoolingNoLrnAt67) {
  ModelOptions o;
  o.input_size = 67;
  o.num_classes = 10;
  o.pool_kernel = 2;
  o.pool_stride = 2;
  o.lrn = false;
  ExpectFields(Shapes(o),
               {
                   {"conv1", 11, 4, 15 * 15 * 96 * 4},
                   {"pool1", 15, 8, 7 * 7 * 96 * 4},     // 11 + 1 * 4
                   {"conv2", 47, 8, 7 * 7 * 256 * 4},    // 15 + 4 * 8
                   {"pool2", 55, 16, 3 * 3 * 256 * 4},   // 47 + 1 * 8
                   {"conv3", 87, 16, 3 * 3 * 384 * 4},   // 55 + 2 * 16
                   {"conv4", 119, 16, 3 * 3 * 384 * 4},
                   {"conv5", 151, 16, 3 * 3 * 256 * 4},
                   {"pool5", 167, 32, 1 * 1 * 256 * 4},  // 151 + 1 * 16
                   {"fc6", 0, 0, 4096 * 4},
                   {"fc7", 0, 0, 4096 * 4},
                   {"fc8", 0, 0, 10 * 4},
               },
               67);
}

TEST(ReceptiveField, OneStepOfTheRecurrence) {
  const LayerSpec conv{"c", LayerKind::kConv, 5, 3, 2, 8, Activation::kRelu, false, false};
  const ReceptiveField in{7, 2, false};
  const ReceptiveField out = NextReceptiveField(in, conv, 100);
  EXPECT_EQ(out.size, 7 + 4 * 2);
  EXPECT_EQ(out.jump, 6);
  EXPECT_FALSE(out.whole_input);
  const LayerSpec lrn{"n", LayerKind::kLrn, 0, 0, 0, 0, Activation::kNone, false, false};
  EXPECT_EQ(NextReceptiveField(in, lrn, 100).size, 7);
  EXPECT_EQ(NextReceptiveField(in, lrn, 100).jump, 2);
  const LayerSpec fc{"f", LayerKind::kFullyConnected, 0, 0, 0, 8, Activation::kRelu, false, false};
  const ReceptiveField all = NextReceptiveField(in, fc, 100);
  EXPECT_TRUE(all.whole_input);
  EXPECT_EQ(all.size, 100);
}

TEST(ActivationMemory, KiBToThreeSignificantDigits) {
  EXPECT_EQ(FormatKiB(55 * 55 * 96 * 4), "1,134");  // conv1: 1,161,600 bytes
  EXPECT_EQ(FormatKiB(227 * 227 * 3 * 4), "604");   // the input: 618,348 bytes
  EXPECT_EQ(FormatKiB(6 * 6 * 256 * 4), "36.0");
  EXPECT_EQ(FormatKiB(1000 * 4), "3.91");
  EXPECT_EQ(FormatKiB(10 * 4), "0.0391");
  EXPECT_EQ(FormatKiB(0), "0");
}

}  // namespace
}  // namespace alexnet::model
