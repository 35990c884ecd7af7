// A TensorFlow session around the AlexNet graph: forward pass, one SGD-with-momentum training
// step (train_step.cpp), parameter initialisation, and checkpoint save/restore (SaveV2/RestoreV2).
// A session whose config has a cluster is one replica of a data-parallel run: what it does
// differently is in replicas.h, reached through replicas().
//
// The wheel's libtensorflow_cc does not export ClientSession, so the graph is built with
// Scope/ops, serialised with Scope::ToGraphDef and run by tensorflow::Session (NewSession).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tensorflow/core/framework/tensor.h>
#include <tensorflow/core/protobuf/config.pb.h>
#include <tensorflow/core/public/session.h>

#include "model/cluster_spec.h"
#include "model/graph.h"
#include "model/tf_status.h"

namespace alexnet::model {

struct SessionConfig {
  ModelOptions model;
  bool training = false;       // add loss, gradients, momentum and their accumulators
  float weight_decay = 5e-4f;  // paper: 0.0005, on weights only
  float momentum = 0.9f;       // paper: 0.9
  // The training targets: (1 - label_smoothing) * one-hot + label_smoothing / classes; 0 = the
  // paper's one-hot labels (train_step.h: SmoothedCrossEntropy).
  float label_smoothing = 0.0f;
  // Fine-tuning: the layers whose parameters the training step updates (ParseTrainLayers); empty:
  // every layer. A frozen layer has no gradient, no weight decay term and no momentum accumulator,
  // and no backward op runs below the lowest trained layer (the gradients are taken with respect
  // to the trained parameters only).
  std::vector<std::string> train_layers;
  int threads = 0;             // intra-op threads; 0 = all cores
  // Run the ops of a step one after another in the calling thread (TensorFlow's
  // inter_op_parallelism_threads = -1), each with all intra-op threads: then a traced step's op
  // times add up to its wall time, and each is the op's own (`alexnet time`).
  bool one_op_at_a_time = false;
  // Data-parallel training (replicas.h): this replica's place in the cluster and the target of
  // this process's server (StartServer). Then the session is a replica: its training step
  // (Replicas::TrainStep) sums every gradient over the replicas before the momentum update, and
  // its loss and accuracy are of the global batch. A replica must be a training session.
  ClusterSpec cluster;
  std::string target;
};

struct StepResult {
  float loss = 0;           // cross-entropy + weight decay
  float cross_entropy = 0;  // mean over the batch; with label smoothing, against the smoothed targets
  int correct_top1 = 0;     // images whose arg-max logit is the label
  int batch = 0;            // images (a replica's step: over all replicas)
  int signal_votes = 0;     // replicas that asked to stop (a replica's step only, replicas.h)
  int time_budget_votes = 0;
};

class Replicas;         // replicas.h
struct SavedVariables;  // train_step.h

class ModelSession {
 public:
  static Result<std::unique_ptr<ModelSession>> Create(const SessionConfig& config);
  ~ModelSession();

  // Runs the initialisers: weights N(0, sigma) (paper) or N(0, sqrt(2/fan_in)) (He); biases 1 in
  // conv2/conv4/conv5/fc6/fc7 and 0 elsewhere (paper) or all 0 (He); momentum accumulators 0.
  Status Initialize();

  // One SGD step on a batch: images [N, S, S, 3] float, labels [N] int32. With `trace`, the step
  // also records TensorFlow's per-op timings (step_stats) and the graphs it really ran after
  // grappler's rewrites (partition_graphs). A replica steps with replicas()->TrainStep.
  Status TrainStep(const tensorflow::Tensor& images, const tensorflow::Tensor& labels,
                   float learning_rate, StepResult* result, tensorflow::RunMetadata* trace = nullptr);
  // Loss and accuracy of a batch without updating anything (dropout off).
  Status EvalStep(const tensorflow::Tensor& images, const tensorflow::Tensor& labels,
                  StepResult* result, tensorflow::Tensor* probabilities = nullptr);
  // Softmax probabilities [N, classes] (dropout off); `trace` as in TrainStep.
  Status Predict(const tensorflow::Tensor& images, tensorflow::Tensor* probabilities,
                 tensorflow::RunMetadata* trace = nullptr);
  // The output of every stage of the seed's table, in order (dropout off).
  Status Stages(const tensorflow::Tensor& images,
                std::vector<std::pair<std::string, tensorflow::Tensor>>* stages);
  // Parameters by name ("conv1/weights", ...), in layer order.
  Status ReadParameters(std::vector<std::pair<std::string, tensorflow::Tensor>>* out);
  // Sets the named parameters to the given values, bit for bit (fine-tuning: the weights of
  // another run). A name the network does not have, or a shape that differs, is an error.
  Status AssignParameters(const std::vector<std::pair<std::string, tensorflow::Tensor>>& values);
  // Gradients of the loss w.r.t. every trained parameter for one batch (dropout off); training only.
  Status Gradients(const tensorflow::Tensor& images, const tensorflow::Tensor& labels,
                   std::vector<tensorflow::Tensor>* grads, float* loss);

  // Writes / reads a TensorFlow checkpoint (prefix.index + prefix.data-00000-of-00001).
  // Variables are named after the layers; momentum accumulators as "<name>/Momentum".
  Status Save(const std::string& prefix);
  Status Restore(const std::string& prefix);

  // The replica part of the session (replicas.h); nullptr for a single process.
  Replicas* replicas() { return replicas_.get(); }

  const Network& network() const { return net_; }
  // As created, except model.precision: the one really used (see UsablePrecision).
  const SessionConfig& config() const { return config_; }
  const tensorflow::GraphDef& graph_def() const { return graph_def_; }

 private:
  friend class Replicas;  // builds and runs a replica's step with the session's parts

  ModelSession();
  Status Build();
  Status AddTrainingStep(const tensorflow::Scope& root, SavedVariables* saved,
                         std::vector<tensorflow::Output>* init_ops);  // train_step.cpp
  Status StartSession();
  // Runs the training step on a batch, with `more_feeds` and `more_fetches` (a replica's); `out`
  // receives the loss, the cross-entropy, the logits, then `more_fetches`.
  Status RunTrainStep(const tensorflow::Tensor& images, const tensorflow::Tensor& labels, float learning_rate,
                      const std::vector<std::pair<std::string, tensorflow::Tensor>>& more_feeds,
                      const std::vector<std::string>& more_fetches, std::vector<tensorflow::Tensor>* out,
                      tensorflow::RunMetadata* trace = nullptr);
  Status Run(const std::vector<std::pair<std::string, tensorflow::Tensor>>& feeds,
             const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
             std::vector<tensorflow::Tensor>* out, tensorflow::RunMetadata* trace);
  float KeepProb() const { return 1.0f - config_.model.dropout_rate; }

  SessionConfig config_;
  // The scope owns the graph that net_'s Outputs point into: it lives as long as the session.
  std::unique_ptr<tensorflow::Scope> scope_;
  Network net_;
  tensorflow::GraphDef graph_def_;
  std::unique_ptr<tensorflow::Session> session_;
  std::unique_ptr<Replicas> replicas_;  // with a cluster only
  std::vector<std::string> gradient_names_;
  std::vector<std::string> variable_names_;  // what a checkpoint holds, in order
  // The loss of the fed batch alone (EvalStep, Gradients): the training loss of a replica is of
  // the global batch and needs the other replicas.
  std::string local_loss_name_, local_cross_entropy_name_;
};

}  // namespace alexnet::model
