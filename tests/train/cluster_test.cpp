// Where a data-parallel run's cluster comes from (--cluster, TF_CONFIG) and how a failed
// collective is said: no TensorFlow, no processes.
#include <gtest/gtest.h>

#include "train/cluster.h"

namespace {

using alexnet::Status;
using alexnet::StatusCode;
using alexnet::train::ClusterFromTfConfig;
using alexnet::train::ExplainReplicaFailure;
using alexnet::train::ParseClusterList;

TEST(ClusterList, ParsesHostsAndTask) {
  const auto c = ParseClusterList("10.0.0.1:2222,node-b:2222,[::1]:3333", 2);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->workers, (std::vector<std::string>{"10.0.0.1:2222", "node-b:2222", "[::1]:3333"}));
  EXPECT_EQ(c->task, 2);
  EXPECT_FALSE(c->chief());
  EXPECT_EQ(c->device(), "/job:worker/replica:0/task:2/device:CPU:0");
}

TEST(ClusterList, RefusesBadEntriesNamingThem) {
  for (const auto& [list, needle] : std::vector<std::pair<std::string, std::string>>{
           {"a:1,b", "\"b\" is not HOST:PORT"},
           {"a:1,b:0", "\"b:0\""},
           {"a:1,b:70000", "\"b:70000\""},
           {"a:1,,b:2", "\"\" is not HOST:PORT"},
           {"a:1,a:1", "a:1 twice"},
       }) {
    const auto c = ParseClusterList(list, 0);
    ASSERT_FALSE(c.ok()) << list;
    EXPECT_NE(c.status().message().find(needle), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("--cluster"), std::string::npos) << c.status().message();
  }
  const auto out_of_range = ParseClusterList("a:1,b:2", 2);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.status().message().find("task 2 is not in the cluster of 2 workers"), std::string::npos);
}

TEST(TfConfig, WorkersOnly) {
  const auto c = ClusterFromTfConfig(
      R"({"cluster": {"worker": ["h0:1000", "h1:1000", "h2:1000"]}, "task": {"type": "worker", "index": 1}})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->workers.size(), 3u);
  EXPECT_EQ(c->task, 1);
}

TEST(TfConfig, ChiefComesFirst) {
  const char* cluster = R"("cluster": {"chief": ["c:1"], "worker": ["w0:1", "w1:1"]})";
  const auto chief = ClusterFromTfConfig(std::string("{") + cluster + R"(, "task": {"type": "chief", "index": 0}})");
  ASSERT_TRUE(chief.ok()) << chief.status().message();
  EXPECT_EQ(chief->workers, (std::vector<std::string>{"c:1", "w0:1", "w1:1"}));
  EXPECT_EQ(chief->task, 0);
  const auto w1 = ClusterFromTfConfig(std::string("{") + cluster + R"(, "task": {"type": "worker", "index": 1}})");
  ASSERT_TRUE(w1.ok());
  EXPECT_EQ(w1->task, 2);
}

TEST(TfConfig, RefusesWhatItCannotRun) {
  for (const std::string& bad : {std::string("not json"), std::string(R"({"cluster": {}})"),
                                 std::string(R"({"cluster": {"ps": ["p:1"], "worker": ["w:1"]}, "task": {}})"),
                                 std::string(R"({"cluster": {"worker": ["w:1"]}, "task": {"type": "evaluator"}})"),
                                 std::string(R"({"cluster": {"worker": ["w:1"]}, "task": {"index": 3}})")}) {
    const auto c = ClusterFromTfConfig(bad);
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) {
      EXPECT_EQ(c.status().path(), "TF_CONFIG");
      EXPECT_EQ(c.status().code(), StatusCode::kBadInput);
    }
  }
}

alexnet::model::ClusterSpec TwoWorkers(int task) {
  alexnet::model::ClusterSpec c;
  c.workers = {"127.0.0.1:5000", "127.0.0.1:5001"};
  c.task = task;
  return c;
}

TEST(ReplicaFailure, NamesThePeerTensorFlowNames) {
  const Status tf = Status::Unavailable("", "From /job:worker/replica:0/task:0:\nCollective ops is aborted by: Socket closed\n"
                                            "Additional GRPC error information from remote target "
                                            "/job:worker/replica:0/task:1 while calling /tensorflow.WorkerService/RecvBuf");
  const Status s = ExplainReplicaFailure(tf, TwoWorkers(0));
  EXPECT_EQ(s.reason().rfind("worker task 1 (127.0.0.1:5001) failed or cannot be reached: ", 0), 0u) << s.reason();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST(ReplicaFailure, ATimeoutListsTheOthers) {
  const Status tf = Status::Unavailable("", "DEADLINE_EXCEEDED: Collective has timed out waiting for other workers.");
  const Status s = ExplainReplicaFailure(tf, TwoWorkers(1));
  EXPECT_NE(s.reason().find("tasks 0 (127.0.0.1:5000)"), std::string::npos) << s.reason();
  EXPECT_NE(s.reason().find("within the collective timeout"), std::string::npos) << s.reason();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST(ReplicaFailure, ATimeoutDuringTheExchangeNamesThePeer) {
  const Status tf = Status::Unavailable("", "From /job:worker/replica:0/task:0:\nCollective has timed out during execution.\n"
                                            "remote target /job:worker/replica:0/task:1 while calling RecvBuf");
  const Status s = ExplainReplicaFailure(tf, TwoWorkers(0));
  EXPECT_EQ(s.reason().rfind("no answer from worker task 1 (127.0.0.1:5001) within the collective timeout", 0), 0u)
      << s.reason();
}

TEST(ReplicaFailure, LeavesOtherFailuresAlone) {
  const Status other = Status::BadInput("x.png", "cannot decode");
  EXPECT_EQ(ExplainReplicaFailure(other, TwoWorkers(0)).message(), other.message());
  EXPECT_EQ(ExplainReplicaFailure(other, TwoWorkers(0)).code(), StatusCode::kBadInput);
  EXPECT_TRUE(ExplainReplicaFailure(Status::Ok(), TwoWorkers(0)).ok());
  alexnet::model::ClusterSpec none;
  const Status tf = Status::Unavailable("", "remote target /job:worker/replica:0/task:1");
  EXPECT_EQ(ExplainReplicaFailure(tf, none).message(), tf.message());
}

}  // namespace
