#include "model/replicas.h"

#include <memory>
#include <mutex>

#include <tensorflow/cc/ops/standard_ops.h>
#include <tensorflow/core/distributed_runtime/server_lib.h>
#include <tensorflow/core/graph/node_builder.h>
#include <tensorflow/core/protobuf/cluster.pb.h>
#include <tensorflow/core/protobuf/tensorflow_server.pb.h>

#include "model/tf_status.h"

namespace alexnet::model {

namespace {

constexpr char kJob[] = "worker";
constexpr int kGroupKey = 1;  // all replicas form one collective group

std::string GroupLeader() { return std::string("/job:") + kJob + "/replica:0/task:0"; }

tensorflow::ServerDef MakeServerDef(const ClusterSpec& cluster, int intra_op_threads) {
  tensorflow::ServerDef def;
  tensorflow::JobDef* job = def.mutable_cluster()->add_job();
  job->set_name(kJob);
  for (int i = 0; i < cluster.size(); ++i) (*job->mutable_tasks())[i] = cluster.workers[static_cast<size_t>(i)];
  def.set_job_name(kJob);
  def.set_task_index(cluster.task);
  def.set_protocol("grpc");
  // The worker's devices (and their thread pools) are made from the server's default config.
  tensorflow::ConfigProto* config = def.mutable_default_session_config();
  if (intra_op_threads > 0) {
    config->set_intra_op_parallelism_threads(intra_op_threads);
    config->set_inter_op_parallelism_threads(1);
  }
  config->mutable_experimental()->set_collective_group_leader(GroupLeader());
  return def;
}

}  // namespace

Result<std::string> StartServer(const ClusterSpec& cluster, int intra_op_threads) {
  static std::mutex mutex;
  static tensorflow::ServerInterface* server = nullptr;  // never destroyed: see the header
  std::lock_guard<std::mutex> lock(mutex);
  if (server) return server->target();
  const std::string where = "task " + std::to_string(cluster.task) + " (" + cluster.address() + ")";
  std::unique_ptr<tensorflow::ServerInterface> made;
  const Status created = FromTf(tensorflow::NewServer(MakeServerDef(cluster, intra_op_threads), &made));
  if (!created.ok()) return created.With("cannot start the TensorFlow server of " + where);
  const Status started = FromTf(made->Start());
  if (!started.ok()) {
    return Status::Error(started.code(), "", "cannot start the TensorFlow server of " + where + ": " +
                                                 started.reason() + " (is the port in use by another process?)");
  }
  server = made.release();
  return server->target();
}

void ApplyClusterConfig(const ClusterSpec& cluster, tensorflow::ConfigProto* config) {
  config->mutable_experimental()->set_collective_group_leader(GroupLeader());
  config->add_device_filters(std::string("/job:") + kJob + "/replica:0/task:" + std::to_string(cluster.task));
}

tensorflow::Output AllReduceSum(const tensorflow::Scope& scope, tensorflow::Input x, const ClusterSpec& cluster,
                                int instance_key, double timeout_s) {
  namespace ops = tensorflow::ops;
  if (!scope.ok()) return tensorflow::Output();
  const std::string name = scope.GetUniqueNameForOp("AllReduceSum");
  const auto group_size = ops::Const(scope, cluster.size());
  const auto group_key = ops::Const(scope, kGroupKey);
  const auto key = ops::Const(scope, instance_key);
  const auto input = ops::AsNodeOut(scope, x);
  if (!scope.ok()) return tensorflow::Output();
  tensorflow::Node* node = nullptr;
  auto builder = tensorflow::NodeBuilder(name, "CollectiveReduceV2")
                     .Input(input)
                     .Input(ops::AsNodeOut(scope, group_size))
                     .Input(ops::AsNodeOut(scope, group_key))
                     .Input(ops::AsNodeOut(scope, key))
                     .Input(std::vector<tensorflow::NodeBuilder::NodeOut>{})  // no ordering tokens
                     .Attr("merge_op", "Add")
                     .Attr("final_op", "Id")
                     .Attr("communication_hint", "ring")
                     .Attr("timeout_seconds", static_cast<float>(timeout_s));
  scope.UpdateBuilder(&builder);
  scope.UpdateStatus(builder.Finalize(scope.graph(), &node));
  if (!scope.ok()) return tensorflow::Output();
  scope.UpdateStatus(scope.DoShapeInference(node));
  return tensorflow::Output(node, 0);
}

}  // namespace alexnet::model
