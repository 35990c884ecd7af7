// Data-parallel training on TensorFlow's distributed runtime, with real servers on loopback:
// two workers on half batches take the same steps as one process on the whole batch, replicas
// hold identical weights, only the chief writes the run folder, a killed worker stops the other
// within a bounded time naming it, and a 2-worker run learns the shapes and resumes.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tensorflow/core/framework/tensor.h>
#include <tensorflow/core/platform/env.h>
#include <tensorflow/core/util/tensor_bundle/tensor_bundle.h>

#include "model/precision.h"
#include "child_process.h"
#include "shapes_dataset.h"

namespace {

namespace fs = std::filesystem;

using alexnet::testing::Child;
using alexnet::testing::LogShows;
using alexnet::testing::Slurp;
using alexnet::testing::Start;
using alexnet::testing::Wait;


// Two free ports on 127.0.0.1 (held open together, so they differ).
std::vector<int> FreePorts(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    fds.push_back(fd);
    ports.push_back(ntohs(a.sin_port));
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

// "variables checksum <hex> (task I, step S)" lines as task -> hex.
std::map<int, std::string> Checksums(const std::string& log) {
  std::map<int, std::string> out;
  const std::regex re(R"(variables checksum ([0-9a-f]{16}) \(task (\d+), step \d+\))");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it) {
    out[std::stoi((*it)[2])] = (*it)[1];
  }
  return out;
}

// Every tensor of a checkpoint by name.
std::map<std::string, tensorflow::Tensor> ReadCheckpoint(const fs::path& prefix) {
  std::map<std::string, tensorflow::Tensor> out;
  tensorflow::BundleReader reader(tensorflow::Env::Default(), prefix.string());
  EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
  if (!reader.status().ok()) return out;
  for (reader.Seek(""); reader.Valid(); reader.Next()) {
    const std::string key(reader.key());
    if (key.empty()) continue;  // the bundle's header
    tensorflow::Tensor t;
    EXPECT_TRUE(reader.ReadCurrent(&t).ok()) << key;
    out[key] = t;
  }
  return out;
}

// ||a - b|| / ||b||
double RelativeDifference(const tensorflow::Tensor& a, const tensorflow::Tensor& b) {
  const auto x = a.flat<float>();
  const auto y = b.flat<float>();
  double diff = 0, norm = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    diff += (double(x(i)) - y(i)) * (double(x(i)) - y(i));
    norm += double(y(i)) * y(i);
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

fs::path Root() {
  return fs::temp_directory_path() / ("alexnet_distributed_" + std::to_string(::getpid()));
}

// The settings every run here shares: 67 x 67 inputs, one TensorFlow and one loader thread,
// dropout off, so that a step is a function of weights and images alone.
std::vector<std::string> Args(const fs::path& run, std::vector<std::string> more) {
  std::vector<std::string> a = {"train", "--data", (Root() / "shapes").string(), "--run", run.string(), "--resize",
                                "72", "--crop", "67", "--init", "he", "--log-every", "0", "--workers", "1",
                                "--threads", "1", "--dropout", "0"};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

// One process on batches of 8 and two workers on 4 + 4 of the same images: 3 steps each.
class ThreeSteps : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(Root());
    alexnet::testing::WriteShapesDataset(Root() / "shapes", 8, 5);
    const std::vector<std::string> common = {"--batch", "8", "--lr", "0.001", "--val-fraction", "0",
                                             "--train-limit", "24", "--epochs", "1", "--checkpoint-every", "0"};
    Child single = Start(Args(Root() / "single", common), (Root() / "single.log").string());
    single_exit_ = Wait(single);
    std::vector<std::string> two = common;
    two.insert(two.end(), {"--local-workers", "2", "--collective-timeout", "60"});
    Child dist = Start(Args(Root() / "two", two), (Root() / "two.log").string());
    two_exit_ = Wait(dist);
  }
  static void TearDownTestSuite() { fs::remove_all(Root()); }
  static inline int single_exit_ = -1, two_exit_ = -1;
};

TEST_F(ThreeSteps, TwoWorkersOnHalfBatchesEqualOneProcessOnTheWholeBatch) {
  ASSERT_EQ(single_exit_, 0) << Slurp(Root() / "single.log");
  ASSERT_EQ(two_exit_, 0) << Slurp(Root() / "two.log") << Slurp(Root() / "two/worker-1.log");
  const auto one = ReadCheckpoint(Root() / "single/checkpoints/ckpt-3/model");
  const auto two = ReadCheckpoint(Root() / "two/checkpoints/ckpt-3/model");
  ASSERT_EQ(one.size(), 32u);  // 8 layers x (weights, biases) x (value, momentum)
  ASSERT_EQ(two.size(), one.size());
  double worst = 0;
  for (const auto& [name, t] : one) {
    ASSERT_TRUE(two.count(name)) << name;
    ASSERT_EQ(two.at(name).shape(), t.shape()) << name;
    const double d = RelativeDifference(two.at(name), t);
    worst = std::max(worst, d);
    EXPECT_LE(d, 1e-5) << name;
    if (name.find("/Momentum") != std::string::npos) {  // 3 steps of real gradients, not zeros
      EXPECT_GT(RelativeDifference(t, tensorflow::Tensor(tensorflow::DT_FLOAT, t.shape())), 0) << name;
    }
  }
  std::printf("largest relative difference over %zu variables (weights and momentum): %.3g\n", one.size(), worst);
}

TEST_F(ThreeSteps, ReplicasHoldIdenticalWeights) {
  ASSERT_EQ(two_exit_, 0) << Slurp(Root() / "two.log");
  const auto chief = Checksums(Slurp(Root() / "two.log"));
  const auto worker = Checksums(Slurp(Root() / "two/worker-1.log"));
  ASSERT_EQ(chief.count(0), 1u) << Slurp(Root() / "two.log");
  ASSERT_EQ(worker.count(1), 1u) << Slurp(Root() / "two/worker-1.log");
  EXPECT_EQ(chief.at(0), worker.at(1));
  std::printf("checksums: task 0 %s, task 1 %s\n", chief.at(0).c_str(), worker.at(1).c_str());
}

// 18 images in batches of 8 over 4 workers: the last batch of 2 leaves two workers without an
// image (they run a blank one with weight 0); still the same 3 steps as one process.
TEST(Shards, FourWorkersWithEmptyShardsEqualOneProcess) {
  const fs::path root = Root() / "empty-shards";
  fs::remove_all(root);
  alexnet::testing::WriteShapesDataset(root / "shapes", 8, 5);
  const std::vector<std::string> common = {"--batch", "8", "--lr", "0.001", "--val-fraction", "0", "--train-limit",
                                           "18", "--epochs", "1", "--checkpoint-every", "0"};
  auto args = [&](const std::string& run, std::vector<std::string> more) {
    auto a = Args(root / run, common);
    a[2] = (root / "shapes").string();  // --data
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  Child one = Start(args("one", {}), (root / "one.log").string());
  ASSERT_EQ(Wait(one), 0) << Slurp(root / "one.log");
  Child four = Start(args("four", {"--local-workers", "4"}), (root / "four.log").string());
  ASSERT_EQ(Wait(four), 0) << Slurp(root / "four.log") << Slurp(root / "four/worker-2.log");
  const auto a = ReadCheckpoint(root / "one/checkpoints/ckpt-3/model");
  const auto b = ReadCheckpoint(root / "four/checkpoints/ckpt-3/model");
  ASSERT_EQ(a.size(), 32u);
  ASSERT_EQ(b.size(), a.size());
  for (const auto& [name, t] : a) EXPECT_LE(RelativeDifference(b.at(name), t), 1e-5) << name;
  std::set<std::string> sums;
  for (const auto& [task, sum] : Checksums(Slurp(root / "four.log"))) sums.insert(sum);
  for (int task = 1; task < 4; ++task) {
    for (const auto& [t, sum] : Checksums(Slurp(root / "four" / ("worker-" + std::to_string(task) + ".log")))) {
      sums.insert(sum);
    }
  }
  EXPECT_EQ(sums.size(), 1u);
  fs::remove_all(root);
}

// bf16 on the distributed runtime (see the remapper note in session.cpp): trains, replicas agree.
TEST(Bf16, TwoWorkersTrainInBf16AndStayIdentical) {
  if (!alexnet::model::CpuHasBf16()) GTEST_SKIP() << "this CPU has no bf16 arithmetic";
  const fs::path root = Root() / "bf16";
  fs::remove_all(root);
  alexnet::testing::WriteShapesDataset(root / "shapes", 8, 5);
  auto args = Args(root / "run", {"--batch", "8", "--val-fraction", "0", "--train-limit", "24", "--epochs", "1",
                                  "--precision", "bf16", "--local-workers", "2"});
  args[2] = (root / "shapes").string();  // --data
  Child c = Start(args, (root / "log").string());
  ASSERT_EQ(Wait(c), 0) << Slurp(root / "log") << Slurp(root / "run/worker-1.log");
  const std::string log = Slurp(root / "log");
  EXPECT_NE(log.find("bf16"), std::string::npos) << log;
  const auto chief = Checksums(log);
  const auto worker = Checksums(Slurp(root / "run/worker-1.log"));
  ASSERT_TRUE(chief.count(0) && worker.count(1)) << log;
  EXPECT_EQ(chief.at(0), worker.at(1));
  fs::remove_all(root);
}

TEST_F(ThreeSteps, OnlyTheChiefWritesTheRunFolderAndItsConfigRecordsTheCluster) {
  ASSERT_EQ(two_exit_, 0);
  const auto config = nlohmann::json::parse(Slurp(Root() / "two/config.json"));
  ASSERT_TRUE(config.contains("cluster")) << config.dump(2);
  EXPECT_EQ(config["cluster"]["workers"].size(), 2u);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(Root() / "two")) files.push_back(e.path().filename().string());
  // The single run's files plus the worker's log, nothing else.
  std::vector<std::string> expected;
  for (const auto& e : fs::directory_iterator(Root() / "single")) {
    const std::string n = e.path().filename().string();
    if (n.rfind("events.out", 0) != 0) expected.push_back(n);
  }
  for (const std::string& n : expected) EXPECT_NE(std::find(files.begin(), files.end(), n), files.end()) << n;
  for (const std::string& n : files) {
    const bool known = n == "worker-1.log" || n.rfind("events.out", 0) == 0 ||
                       std::find(expected.begin(), expected.end(), n) != expected.end();
    EXPECT_TRUE(known) << "unexpected file " << n;
  }
  // One step counter and one set of checkpoints: the chief's.
  EXPECT_TRUE(fs::exists(Root() / "two/checkpoints/ckpt-3/state.json"));
}

class Processes : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = Root() / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(root_);
    alexnet::testing::WriteShapesDataset(Root() / "shapes", 8, 5);
  }
  void TearDown() override { fs::remove_all(Root()); }

  // A chief and one worker on free loopback ports, run until the worker has taken two steps
  // (up to 2 minutes to start); *stepping says whether it got there.
  void StartTwoStepping(int collective_timeout_s, std::vector<int>* ports, Child* chief, Child* worker,
                        bool* stepping) {
    *ports = FreePorts(2);
    const std::string cluster =
        "127.0.0.1:" + std::to_string((*ports)[0]) + ",127.0.0.1:" + std::to_string((*ports)[1]);
    const std::vector<std::string> common = {"--batch", "8", "--val-fraction", "0", "--epochs", "100",
                                             "--checkpoint-every", "0", "--cluster", cluster,
                                             "--collective-timeout", std::to_string(collective_timeout_s)};
    auto args = [&](int task) {
      auto a = Args(root_ / ("run" + std::to_string(task)), common);
      a.insert(a.end(), {"--task", std::to_string(task)});
      return a;
    };
    *chief = Start(args(0), (root_.string() + "-chief.log"));
    *worker = Start(args(1), (root_.string() + "-worker.log"));
    *stepping = LogShows(*worker, "step 2 ", 120);
  }
  fs::path root_;
};
using Faults = Processes;
using Learning = Processes;

TEST_F(Faults, KillingAWorkerStopsTheOtherWithinAMinuteNamingIt) {
  std::vector<int> ports;
  Child chief, worker;
  bool stepping = false;
  StartTwoStepping(30, &ports, &chief, &worker, &stepping);
  ASSERT_TRUE(stepping) << Slurp(worker.log) << Slurp(chief.log);
  ::kill(worker.pid, SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  EXPECT_EQ(Wait(worker), 128 + SIGKILL);
  const int code = Wait(chief);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  const std::string log = Slurp(chief.log);
  EXPECT_EQ(code, 1) << log;
  EXPECT_LT(seconds, 60) << log;
  // "worker task 1 (127.0.0.1:P) failed or cannot be reached" when an exchange with it was in
  // flight (the closed connection), else "no answer from ... tasks 1 (127.0.0.1:P) within the
  // collective timeout" (30 s here): both name it.
  EXPECT_NE(log.find("1 (127.0.0.1:" + std::to_string(ports[1]) + ")"), std::string::npos) << log;
  std::printf("the chief stopped %.1f s after its worker was killed\n", seconds);
}

TEST_F(Faults, AHangingWorkerStopsTheOtherAfterTheCollectiveTimeout) {
  std::vector<int> ports;
  Child chief, worker;
  bool stepping = false;
  StartTwoStepping(10, &ports, &chief, &worker, &stepping);
  ASSERT_TRUE(stepping) << Slurp(worker.log) << Slurp(chief.log);
  ::kill(worker.pid, SIGSTOP);  // alive, connected, silent
  const auto stopped = std::chrono::steady_clock::now();
  const int code = Wait(chief);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
  ::kill(worker.pid, SIGKILL);
  Wait(worker);
  const std::string log = Slurp(chief.log);
  EXPECT_EQ(code, 1) << log;
  EXPECT_LT(seconds, 60) << log;
  EXPECT_NE(log.find("within the collective timeout"), std::string::npos) << log;
  EXPECT_NE(log.find("1 (127.0.0.1:" + std::to_string(ports[1]) + ")"), std::string::npos) << log;
  std::printf("the chief stopped %.1f s after its worker hung (collective timeout 10 s)\n", seconds);
}

// Ctrl-C on --local-workers: the launcher forwards it, every worker stops after the same step,
// the chief saves, and the launcher returns the chief's status (0).
TEST_F(Faults, SigintToLocalWorkersStopsAllAfterTheSameStepAndSaves) {
  const fs::path run = root_ / "run";
  Child c = Start(Args(run, {"--batch", "8", "--val-fraction", "0", "--epochs", "100", "--checkpoint-every", "0",
                             "--local-workers", "2"}),
                  root_.string() + ".log");
  ASSERT_TRUE(LogShows(c, "step 2 ", 120)) << Slurp(c.log);
  ::kill(c.pid, SIGINT);
  EXPECT_EQ(Wait(c), 0) << Slurp(c.log) << Slurp(run / "worker-1.log");
  const std::string log = Slurp(c.log);
  const std::string worker = Slurp(run / "worker-1.log");
  const std::regex stopped(R"(stopped by [A-Za-z' ]+ at step (\d+))");
  std::smatch a, b;
  ASSERT_TRUE(std::regex_search(log, a, stopped)) << log;
  ASSERT_TRUE(std::regex_search(worker, b, stopped)) << worker;
  EXPECT_EQ(a[1], b[1]);  // the same step
  EXPECT_TRUE(fs::exists(run / ("checkpoints/ckpt-" + a[1].str()) / "state.json")) << log;
  EXPECT_EQ(Checksums(log).at(0), Checksums(worker).at(1));
}

// The listening sockets of `port` in /proc/net/tcp and tcp6, as their local address in hex
// ("0100007F" is 127.0.0.1, "00000000" any IPv4 address, 32 zeros any IPv6 address).
std::vector<std::string> ListeningAddresses(int port) {
  std::vector<std::string> out;
  char hex_port[8];
  std::snprintf(hex_port, sizeof hex_port, "%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream lines(Slurp(table));
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const size_t colon = local.find(':');
      if (state == "0A" && colon != std::string::npos && local.substr(colon + 1) == hex_port) {
        out.push_back(local.substr(0, colon));
      }
    }
  }
  return out;
}

// TensorFlow's servers listen on every interface; those of --local-workers on 127.0.0.1 only.
TEST_F(Faults, LocalWorkersListenOnLoopbackOnly) {
  const fs::path run = root_ / "run";
  Child c = Start(Args(run, {"--batch", "8", "--val-fraction", "0", "--epochs", "100", "--checkpoint-every", "0",
                             "--local-workers", "2"}),
                  root_.string() + ".log");
  ASSERT_TRUE(LogShows(c, "step 1 ", 120)) << Slurp(c.log);
  const std::string log = Slurp(c.log);
  const std::regex address(R"(127\.0\.0\.1:(\d+))");
  int ports = 0;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), address); it != std::sregex_iterator() && ports < 2;
       ++it, ++ports) {
    const int port = std::stoi((*it)[1]);
    EXPECT_EQ(ListeningAddresses(port), std::vector<std::string>{"0100007F"}) << "port " << port;
  }
  EXPECT_EQ(ports, 2) << log;
  ::kill(c.pid, SIGINT);
  EXPECT_EQ(Wait(c), 0) << Slurp(c.log);
}

TEST_F(Faults, APortInUseIsSaidAtStartUp) {
  const auto ports = FreePorts(2);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(ports[0]));
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  const std::string address = "127.0.0.1:" + std::to_string(ports[0]);
  Child c = Start(Args(root_ / "run", {"--batch", "8", "--cluster", address + ",127.0.0.1:" + std::to_string(ports[1]),
                                       "--task", "0"}),
                  root_.string() + ".log");
  EXPECT_EQ(Wait(c), 1);
  ::close(fd);
  const std::string log = Slurp(c.log);
  EXPECT_NE(log.find("cannot start the TensorFlow server of task 0 (" + address + ")"), std::string::npos) << log;
}

TEST_F(Faults, AnAbsentPeerAtStartUpIsSaidWithinTheStartupTimeout) {
  const auto ports = FreePorts(2);
  const std::string cluster = "127.0.0.1:" + std::to_string(ports[0]) + ",127.0.0.1:" + std::to_string(ports[1]);
  Child c = Start(Args(root_ / "run", {"--batch", "8", "--val-fraction", "0", "--cluster", cluster, "--task", "0",
                                       "--startup-timeout", "5"}),
                  root_.string() + ".log");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Wait(c), 1);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 60);
  const std::string log = Slurp(c.log);
  EXPECT_NE(log.find("cannot synchronise the replicas"), std::string::npos) << log;
  EXPECT_NE(log.find("1 (127.0.0.1:" + std::to_string(ports[1]) + ")"), std::string::npos) << log;
}

// Learns the shapes as the single-process run does (fewer images and epochs: each step here
// also all-reduces the 86 MB of parameters), stopped after 2 epochs and resumed to 4.
TEST_F(Learning, TwoWorkersLearnTheShapesAndResume) {
  fs::remove_all(Root() / "shapes");
  alexnet::testing::WriteShapesDataset(Root() / "shapes", 24, 11);
  const fs::path run = root_ / "run";
  const std::vector<std::string> recipe = {"--batch", "12", "--lr", "0.002", "--standardize", "--val-fraction",
                                           "0.25", "--checkpoint-every", "0", "--local-workers", "2"};
  auto first = Args(run, recipe);
  first.insert(first.end(), {"--epochs", "2"});
  Child a = Start(first, root_.string() + "-first.log");
  ASSERT_EQ(Wait(a), 0) << Slurp(a.log) << Slurp(run / "worker-1.log");
  Child b = Start({"train", "--run", run.string(), "--resume", "--epochs", "4", "--local-workers", "2", "--workers",
                   "1", "--threads", "1"},
                  root_.string() + "-resumed.log");
  ASSERT_EQ(Wait(b), 0) << Slurp(b.log) << Slurp(run / "worker-1.log");
  const std::string log = Slurp(b.log);
  EXPECT_NE(log.find("resumed from"), std::string::npos) << log;
  EXPECT_NE(log.find("at step 12"), std::string::npos) << log;  // 72 images / 12 x 2 epochs
  // The worker continues from the chief's step (it has no checkpoint of its own).
  EXPECT_NE(Slurp(run / "worker-1.log").find("step 13 "), std::string::npos) << Slurp(run / "worker-1.log");
  const auto chief = Checksums(log);
  const auto worker = Checksums(Slurp(run / "worker-1.log"));
  ASSERT_TRUE(chief.count(0) && worker.count(1)) << log;
  EXPECT_EQ(chief.at(0), worker.at(1));
  const auto state = nlohmann::json::parse(Slurp(run / "checkpoints/ckpt-24/state.json"));
  const double best = state["best_val_top1"].get<double>();
  std::printf("2 workers, 4 epochs of 72 images: best validation top-1 %.3f\n%s", best,
              Slurp(run / "metrics.csv").c_str());
  EXPECT_GE(best, 0.75);  // 4 classes: chance is 0.25
}

}  // namespace
