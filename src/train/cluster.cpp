#include "train/cluster.h"

#include <cstdlib>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

namespace alexnet::train {

namespace {

Status CheckAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (address.empty() || colon == std::string::npos || colon == 0) {
    return Status::BadInput("", "\"" + address + "\" is not HOST:PORT");
  }
  const std::string port = address.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 1 || p > 65535) {
    return Status::BadInput("", "\"" + address + "\": the port must be a number from 1 to 65535");
  }
  return Status::Ok();
}

}  // namespace

Status CheckCluster(const model::ClusterSpec& cluster) {
  if (cluster.workers.empty()) return Status::BadInput("", "the cluster lists no worker");
  std::set<std::string> seen;
  for (const std::string& w : cluster.workers) {
    ALEXNET_RETURN_IF_ERROR(CheckAddress(w));
    if (!seen.insert(w).second) return Status::BadInput("", "the cluster lists " + w + " twice");
  }
  if (cluster.task < 0 || cluster.task >= cluster.size()) {
    return Status::BadInput("", "task " + std::to_string(cluster.task) + " is not in the cluster of " +
                                 std::to_string(cluster.size()) + " workers (tasks 0.." +
                                 std::to_string(cluster.size() - 1) + ")");
  }
  return Status::Ok();
}

Result<model::ClusterSpec> ParseClusterList(const std::string& list, int task) {
  model::ClusterSpec c;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const size_t end = comma == std::string::npos ? list.size() : comma;
    c.workers.push_back(list.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  c.task = task;
  ALEXNET_RETURN_IF_ERROR(CheckCluster(c).With("--cluster"));
  return c;
}

Result<model::ClusterSpec> ClusterFromTfConfig(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("cluster") || !j["cluster"].is_object() || !j.contains("task") ||
      !j["task"].is_object()) {
    return Status::BadInput("TF_CONFIG", "not a JSON object with \"cluster\" and \"task\"");
  }
  model::ClusterSpec c;
  bool has_chief = false;
  try {
    for (const auto& [job, tasks] : j["cluster"].items()) {
      if (job != "chief" && job != "worker") {
        return Status::BadInput("TF_CONFIG", "job \"" + job + "\" is not supported (only \"chief\" and \"worker\")");
      }
    }
    if (j["cluster"].contains("chief")) {
      for (const auto& a : j["cluster"]["chief"]) c.workers.push_back(a.get<std::string>());
      has_chief = true;
      if (c.workers.size() != 1) return Status::BadInput("TF_CONFIG", "the \"chief\" job must have one task");
    }
    if (j["cluster"].contains("worker")) {
      for (const auto& a : j["cluster"]["worker"]) c.workers.push_back(a.get<std::string>());
    }
    const std::string type = j["task"].value("type", "worker");
    const int index = j["task"].value("index", 0);
    if (type == "chief") {
      if (!has_chief) return Status::BadInput("TF_CONFIG", "task type \"chief\" but no \"chief\" job");
      c.task = index;
    } else if (type == "worker") {
      c.task = index + (has_chief ? 1 : 0);
    } else {
      return Status::BadInput("TF_CONFIG", "task type \"" + type + "\" is not supported");
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::BadInput("TF_CONFIG", e.what());
  }
  const Status checked = CheckCluster(c);
  if (!checked.ok()) return Status::Error(checked.code(), "TF_CONFIG", checked.reason());
  return c;
}

Status ExplainReplicaFailure(const Status& failure, const model::ClusterSpec& cluster) {
  if (failure.ok() || !cluster.enabled()) return failure;
  const std::string& why = failure.reason();
  // TensorFlow names the peer of a failed RPC as "/job:worker/replica:0/task:<I>".
  static const std::regex kTask(R"(/job:worker/replica:0/task:(\d+))");
  std::string named;
  for (auto it = std::sregex_iterator(why.begin(), why.end(), kTask); it != std::sregex_iterator(); ++it) {
    const int task = std::stoi((*it)[1]);
    if (task == cluster.task || task >= cluster.size()) continue;
    named = "worker task " + std::to_string(task) + " (" + cluster.workers[static_cast<size_t>(task)] + ")";
    break;
  }
  // Whether the collective timed out is read from TensorFlow's text, like the peer's task above:
  // FromTf folds DEADLINE_EXCEEDED, UNAVAILABLE and ABORTED into one code (kUnavailable), and a
  // peer's timeout can reach the other workers only as text inside the error that aborted their
  // collective ("... DEADLINE_EXCEEDED: Collective has timed out ..."). The text chooses the
  // wording; the explained failure is kUnavailable either way.
  const bool timed_out = why.find("timed out") != std::string::npos || why.find("DEADLINE_EXCEEDED") != std::string::npos;
  if (!timed_out) {
    if (named.empty()) return failure;
    return Status::Unavailable(failure.path(), named + " failed or cannot be reached: " + why);
  }
  if (named.empty()) {
    named = "the other workers (tasks ";
    for (int t = 0, listed = 0; t < cluster.size(); ++t) {
      if (t == cluster.task) continue;
      named += (listed++ ? ", " : "") + std::to_string(t) + " (" + cluster.workers[static_cast<size_t>(t)] + ")";
    }
    named += ")";
  }
  return Status::Unavailable(failure.path(), "no answer from " + named +
                                                 " within the collective timeout: one died, hangs or cannot be reached: " +
                                                 why);
}

}  // namespace alexnet::train
