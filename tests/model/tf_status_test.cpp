// TensorFlow's absl::Status at the model library's boundary: the message survives, the path is
// put in front, and the GPU out-of-memory advice TensorFlow appends to any failed Run is dropped
// (a full disk while saving a checkpoint is not an allocation problem); absl's code becomes the
// nearest StatusCode.
#include "model/tf_status.h"

#include <gtest/gtest.h>

namespace alexnet::model {
namespace {

TEST(FromTf, OkStaysOk) { EXPECT_TRUE(FromTf(absl::OkStatus(), "x").ok()); }

TEST(FromTf, KeepsTheReasonAndPutsThePathFirst) {
  const Status s = FromTf(absl::NotFoundError("no such file"), "runs/x/ckpt-5/model");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.path(), "runs/x/ckpt-5/model");
  EXPECT_EQ(s.message(), "runs/x/ckpt-5/model: no such file");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST(FromTf, MapsTheCodes) {
  EXPECT_EQ(FromTf(absl::InvalidArgumentError("x")).code(), StatusCode::kBadInput);
  EXPECT_EQ(FromTf(absl::FailedPreconditionError("x")).code(), StatusCode::kBadInput);
  EXPECT_EQ(FromTf(absl::OutOfRangeError("x")).code(), StatusCode::kBadInput);
  EXPECT_EQ(FromTf(absl::DataLossError("Checksum does not match")).code(), StatusCode::kBadInput);
  EXPECT_EQ(FromTf(absl::PermissionDeniedError("x")).code(), StatusCode::kIo);
  EXPECT_EQ(FromTf(absl::DeadlineExceededError("Collective has timed out")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(FromTf(absl::UnavailableError("Socket closed")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(FromTf(absl::AbortedError("x")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(FromTf(absl::CancelledError("x")).code(), StatusCode::kInterrupted);
  EXPECT_EQ(FromTf(absl::InternalError("x")).code(), StatusCode::kInternal);
  EXPECT_EQ(FromTf(absl::UnknownError("x")).code(), StatusCode::kInternal);
  // The message is TensorFlow's, without the code's name.
  EXPECT_EQ(FromTf(absl::AbortedError("peer gone"), "p").message(), "p: peer gone");
}

TEST(FromTf, DropsTheOutOfMemoryHint) {
  const std::string tf_message =
      "runs/x/checkpoints/ckpt-138.tmp/model.data-00000-of-00001.tempstate123; No space left on device\n"
      "\t [[{{node save/SaveV2}}]]\n"
      "Hint: If you want to see a list of allocated tensors when OOM happens, add "
      "report_tensor_allocations_upon_oom to RunOptions for current allocation info. This isn't available "
      "when running in Eager mode.\n";
  const Status s = FromTf(absl::ResourceExhaustedError(tf_message));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("save/SaveV2"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("Hint"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("report_tensor_allocations_upon_oom"), std::string::npos) << s.message();
  EXPECT_EQ(s.code(), StatusCode::kIo);  // a full disk
}

}  // namespace
}  // namespace alexnet::model
