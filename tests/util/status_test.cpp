// util/status.h: every failure has a code, which With() keeps; the message ("path: reason") never
// shows the code, and each named constructor gives its own code.
#include "util/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "util/files.h"

namespace alexnet {
namespace {

TEST(Status, OkHasCodeOkAndNoMessage) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status::Ok().code(), StatusCode::kOk);
  EXPECT_EQ(Status::Ok().message(), "ok");
}

TEST(Status, EachConstructorGivesItsCode) {
  EXPECT_EQ(Status::BadInput("a.png", "r").code(), StatusCode::kBadInput);
  EXPECT_EQ(Status::NotFound("a.png", "r").code(), StatusCode::kNotFound);
  EXPECT_EQ(Status::Io("a.png", "r").code(), StatusCode::kIo);
  EXPECT_EQ(Status::NonFiniteLoss("r").code(), StatusCode::kNonFiniteLoss);
  EXPECT_EQ(Status::Interrupted("r").code(), StatusCode::kInterrupted);
  EXPECT_EQ(Status::Unavailable("", "r").code(), StatusCode::kUnavailable);
  EXPECT_EQ(Status::Internal("r").code(), StatusCode::kInternal);
  EXPECT_EQ(Status::Error(StatusCode::kIo, "p", "r").code(), StatusCode::kIo);
  for (const Status& s : {Status::BadInput("", "r"), Status::NonFiniteLoss("r"), Status::Internal("r")}) {
    EXPECT_FALSE(s.ok());
  }
}

TEST(Status, TheMessageIsPathAndReasonWithoutTheCode) {
  const Status s = Status::NotFound("runs/x/config.json", "cannot open");
  EXPECT_EQ(s.path(), "runs/x/config.json");
  EXPECT_EQ(s.reason(), "cannot open");
  EXPECT_EQ(s.message(), "runs/x/config.json: cannot open");
  EXPECT_EQ(Status::BadInput("", "--batch must be >= 1").message(), "--batch must be >= 1");
}

TEST(Status, WithKeepsCodeAndPath) {
  const Status s = Status::NonFiniteLoss("the loss became NaN at step 3").With("the run in r failed");
  EXPECT_EQ(s.code(), StatusCode::kNonFiniteLoss);
  EXPECT_EQ(s.message(), "the run in r failed: the loss became NaN at step 3");
  const Status t = Status::Io("a.csv", "write failed").With("steps.csv not written").With("epoch 2");
  EXPECT_EQ(t.code(), StatusCode::kIo);
  EXPECT_EQ(t.message(), "a.csv: epoch 2: steps.csv not written: write failed");
  EXPECT_TRUE(Status::Ok().With("anything").ok());
}

TEST(Status, AFailureMadeWithCodeOkIsInternal) {
  const Status s = Status::Error(StatusCode::kOk, "", "r");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInternal);
}

TEST(Status, ResultFromAnOkStatusIsInternal) {
  const Result<int> r(Status::Ok());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  const Result<int> bad(Status::NotFound("x", "gone"));
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Result<int>(7).value(), 7);
}

TEST(Status, CodesHaveNamesAndErrnoGivesNotFoundOrIo) {
  EXPECT_STREQ(StatusCodeName(StatusCode::kOk), "ok");
  EXPECT_STREQ(StatusCodeName(StatusCode::kBadInput), "bad input");
  EXPECT_STREQ(StatusCodeName(StatusCode::kNotFound), "not found");
  EXPECT_STREQ(StatusCodeName(StatusCode::kIo), "i/o error");
  EXPECT_STREQ(StatusCodeName(StatusCode::kNonFiniteLoss), "non-finite loss");
  EXPECT_STREQ(StatusCodeName(StatusCode::kInterrupted), "interrupted");
  EXPECT_STREQ(StatusCodeName(StatusCode::kUnavailable), "unavailable");
  EXPECT_STREQ(StatusCodeName(StatusCode::kInternal), "internal error");
  EXPECT_EQ(ErrnoCode(ENOENT), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoCode(ENOTDIR), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoCode(EACCES), StatusCode::kIo);
  EXPECT_EQ(ErrnoCode(ENOSPC), StatusCode::kIo);
}

TEST(Status, AMissingFileIsNotFoundAndNamesItsPath) {
  const std::string path = "/nonexistent-alexnet-folder/file.txt";
  const Result<std::string> read = ReadFile(path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound) << read.status().message();
  EXPECT_NE(read.status().message().find(path), std::string::npos) << read.status().message();
  const Status written = WriteFileAtomic(path, "x");
  EXPECT_EQ(written.code(), StatusCode::kNotFound) << written.message();
}

}  // namespace
}  // namespace alexnet
