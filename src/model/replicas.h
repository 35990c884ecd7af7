// Data-parallel training on TensorFlow's distributed runtime (between-graph replication): every
// process runs its own gRPC server and its own copy of the graph, placed on its own task's CPU,
// and the replicas meet only in collective all-reduce ops (CollectiveReduceV2, ring algorithm).
//
// There is no C++ op wrapper for the collective ops in the wheel, so AllReduceSum adds the node
// itself (NodeBuilder, i.e. a NodeDef with its attributes).
#pragma once

#include <string>

#include <tensorflow/cc/framework/ops.h>
#include <tensorflow/cc/framework/scope.h>
#include <tensorflow/core/protobuf/config.pb.h>

#include "util/status.h"
#include "model/cluster_spec.h"

namespace alexnet::model {

// Starts this process's TensorFlow server for `cluster` (job "worker", protocol "grpc") and
// returns its session target ("grpc://..."). Once per process: a second call returns the
// first server's target. The server lives until the process exits (TensorFlow's GrpcServer
// cannot be shut down cleanly; its destructor aborts). An address already in use or a cluster
// list that does not parse is an error naming the task and the address.
Result<std::string> StartServer(const ClusterSpec& cluster, int intra_op_threads);

// What every session of a replica needs in its ConfigProto: the collective group leader (task
// 0) and a device filter, so that the session uses only its own task's device.
void ApplyClusterConfig(const ClusterSpec& cluster, tensorflow::ConfigProto* config);

// Collective instance keys: one per all-reduce in the graph, the same in every replica.
namespace instance_keys {
constexpr int kStepTotals = 10;       // images, losses, votes of a training step
constexpr int kSum = 11;              // ModelSession::SumAcrossReplicas
constexpr int kGradient = 1000;       // + parameter index
constexpr int kSyncParameter = 2000;  // + parameter index
constexpr int kSyncMomentum = 3000;   // + parameter index
}  // namespace instance_keys

// The element-wise sum of `x` over all replicas (every replica adds the node with the same
// key and shape). `timeout_s` bounds the wait for the other replicas.
tensorflow::Output AllReduceSum(const tensorflow::Scope& scope, tensorflow::Input x, const ClusterSpec& cluster,
                                int instance_key, double timeout_s);

}  // namespace alexnet::model
