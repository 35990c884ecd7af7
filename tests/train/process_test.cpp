// The alexnet binary as a user meets it: killed with SIGKILL it resumes from its last
// checkpoint; SIGINT saves and says how to resume; a NaN loss stops it without touching the
// last good checkpoint; an unwritable run folder is reported.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "shapes_dataset.h"
#include "util/files.h"

namespace {

namespace fs = std::filesystem;

using alexnet::WriteFileAtomic;
using alexnet::testing::Child;
using alexnet::testing::LogShows;
using alexnet::testing::Slurp;
using alexnet::testing::Start;
using alexnet::testing::Wait;


// Waits until `path` exists (or the child exits, or the time is up).
bool WaitFor(const fs::path& path, const Child& c, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (fs::exists(path)) return true;
    int status;
    if (::waitpid(c.pid, &status, WNOHANG) == c.pid) return fs::exists(path);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

class Process : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("alexnet_process_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    alexnet::testing::WriteShapesDataset(root_ / "shapes", 16, 5);
  }
  void TearDown() override { fs::remove_all(root_); }
  // Dropout off and one TensorFlow thread: the steps are then deterministic, so a resumed run
  // can be compared step by step with the one that was killed.
  std::vector<std::string> TrainArgs(const std::string& run, int checkpoint_every = 2) const {
    return {"train", "--data", (root_ / "shapes").string(), "--run", run, "--resize", "72", "--crop", "67",
            "--batch", "8", "--init", "he", "--lr", "0.0003", "--val-fraction", "0.25", "--log-every", "0",
            "--checkpoint-every", std::to_string(checkpoint_every), "--workers", "1", "--threads", "1",
            "--dropout", "0"};
  }
  fs::path root_;
};

// Progress lines "step N  epoch E  loss L ..." as (N, L).
std::vector<std::pair<long, double>> Steps(const std::string& log) {
  std::vector<std::pair<long, double>> out;
  const std::regex re(R"(step (\d+)  epoch [0-9.]+  loss ([0-9.eE+-]+))");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it) {
    out.emplace_back(std::stol((*it)[1]), std::stod((*it)[2]));
  }
  return out;
}

TEST_F(Process, SigkillMidTrainingResumesFromTheLastCheckpoint) {
  const std::string run = (root_ / "run").string();
  std::vector<std::string> args = TrainArgs(run, 4);
  args.insert(args.end(), {"--epochs", "50"});
  Child c = Start(args, (root_ / "first.log").string());
  ASSERT_TRUE(WaitFor(root_ / "run/checkpoints/ckpt-8/state.json", c, 240)) << Slurp(c.log);
  LogShows(c, "step 9 ", 30);  // then killed between checkpoints (or at once if it never gets there)
  ::kill(c.pid, SIGKILL);
  EXPECT_EQ(Wait(c), 128 + SIGKILL);
  const auto before = Steps(Slurp(c.log));
  ASSERT_FALSE(before.empty());

  // The newest complete checkpoint is what resume must continue from.
  long saved_step = 0;
  for (const auto& e : fs::directory_iterator(root_ / "run/checkpoints")) {
    const std::string n = e.path().filename().string();
    if (n.rfind("ckpt-", 0) == 0 && n.find('.') == std::string::npos && fs::exists(e.path() / "state.json")) {
      saved_step = std::max(saved_step, std::stol(n.substr(5)));
    }
  }
  ASSERT_GE(saved_step, 8);
  const auto state_file = root_ / "run/checkpoints" / ("ckpt-" + std::to_string(saved_step)) / "state.json";
  const auto state = nlohmann::json::parse(Slurp(state_file.string()));
  EXPECT_EQ(state["step"].get<long>(), saved_step);

  Child r = Start({"train", "--run", run, "--resume", "--epochs", "3", "--workers", "1", "--threads", "1"},
                  (root_ / "resume.log").string());
  ASSERT_EQ(Wait(r), 0) << Slurp(r.log);
  const std::string log = Slurp(r.log);
  EXPECT_NE(log.find("resumed from"), std::string::npos) << log;
  EXPECT_NE(log.find("at step " + std::to_string(saved_step)), std::string::npos) << log;
  const auto after = Steps(log);
  ASSERT_FALSE(after.empty()) << log;
  EXPECT_EQ(after.front().first, saved_step + 1);  // step count continues
  // Loss continues: the resumed step computes the same loss the killed run logged for it
  // (same weights, momentum, data position and augmentation).
  double killed_loss = -1;
  for (const auto& [step, loss] : before) {
    if (step == saved_step + 1) killed_loss = loss;
  }
  ASSERT_GE(killed_loss, 0) << "the killed run did not log step " << saved_step + 1;
  std::printf("step %ld: loss %.5f before the kill, %.5f after resuming (fresh start: %.5f)\n",
              saved_step + 1, killed_loss, after.front().second, before.front().second);
  EXPECT_NEAR(after.front().second, killed_loss, 1e-3 * (1 + killed_loss));
}

TEST_F(Process, SigintSavesAndPrintsHowToResume) {
  const std::string run = (root_ / "run").string();
  std::vector<std::string> args = TrainArgs(run, 1000);
  args.insert(args.end(), {"--epochs", "50"});
  Child c = Start(args, (root_ / "log").string());
  ASSERT_TRUE(WaitFor(root_ / "run/metrics.csv", c, 240)) << Slurp(c.log);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::kill(c.pid, SIGINT);
  EXPECT_EQ(Wait(c), 0) << Slurp(c.log);
  const std::string log = Slurp(c.log);
  EXPECT_NE(log.find("--resume"), std::string::npos) << log;
  bool have_ckpt = false;
  for (const auto& e : fs::directory_iterator(root_ / "run/checkpoints")) {
    have_ckpt |= fs::exists(e.path() / "model.index") && fs::exists(e.path() / "state.json");
  }
  EXPECT_TRUE(have_ckpt);
}

// Progress lines "step N ... lr R ..." as N -> R, as printed (%.6g: equal text, equal rate).
std::map<long, std::string> StepRates(const std::string& log) {
  std::map<long, std::string> out;
  const std::regex re(R"(step (\d+)  epoch .*  lr ([0-9.eE+-]+)  )");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it) {
    out[std::stol((*it)[1])] = (*it)[2];
  }
  return out;
}

// The per-step schedules with --resume: a run stopped by SIGINT and resumed trains every later
// step at the rate the uninterrupted run did (the rate is a function of the step and the run's
// length, schedule.h), warm-up included; label smoothing on, as it would be in such a recipe.
TEST_F(Process, CosineScheduleResumedAfterSigintTrainsAtTheUninterruptedRates) {
  const std::vector<std::string> recipe = {"--epochs", "4", "--lr-schedule", "cosine", "--warmup-steps", "5",
                                           "--label-smoothing", "0.1"};
  std::vector<std::string> args = TrainArgs((root_ / "whole").string(), 1000);
  args.insert(args.end(), recipe.begin(), recipe.end());
  Child whole = Start(args, (root_ / "whole.log").string());
  ASSERT_EQ(Wait(whole), 0) << Slurp(whole.log);
  const std::string whole_log = Slurp(whole.log);
  // 48 training images / 8 = 6 steps per epoch, 24 in all.
  EXPECT_NE(whole_log.find("recipe: lr 0.0003, cosine over 24 steps to 0, warm-up 5 steps, label smoothing 0.1"),
            std::string::npos)
      << whole_log;
  const std::map<long, std::string> expected = StepRates(whole_log);
  ASSERT_EQ(expected.size(), 24u) << whole_log;
  EXPECT_EQ(expected.at(1), "6e-05");  // 0.0003 / 5
  EXPECT_EQ(expected.at(5), "0.0003");

  args = TrainArgs((root_ / "stopped").string(), 1000);
  args.insert(args.end(), recipe.begin(), recipe.end());
  Child first = Start(args, (root_ / "first.log").string());
  ASSERT_TRUE(LogShows(first, "step 3 ", 240)) << Slurp(first.log);
  ::kill(first.pid, SIGINT);
  ASSERT_EQ(Wait(first), 0) << Slurp(first.log);
  const std::string first_log = Slurp(first.log);
  ASSERT_NE(first_log.find("stopped by SIGINT"), std::string::npos) << first_log;
  Child second = Start({"train", "--run", (root_ / "stopped").string(), "--resume", "--workers", "1", "--threads", "1"},
                       (root_ / "second.log").string());
  ASSERT_EQ(Wait(second), 0) << Slurp(second.log);
  std::map<long, std::string> rates = StepRates(first_log);
  const long stopped_at = rates.empty() ? 0 : rates.rbegin()->first;
  const std::map<long, std::string> resumed = StepRates(Slurp(second.log));
  ASSERT_FALSE(resumed.empty()) << Slurp(second.log);
  EXPECT_EQ(resumed.begin()->first, stopped_at + 1);
  rates.insert(resumed.begin(), resumed.end());
  EXPECT_EQ(rates, expected) << first_log << Slurp(second.log);
}

TEST_F(Process, NanLossStopsWithAClearMessageAndKeepsTheLastCheckpoint) {
  const std::string run = (root_ / "run").string();
  std::vector<std::string> args = TrainArgs(run);
  // A first, sane epoch writes a checkpoint; then resume with an absurd learning rate.
  args.insert(args.end(), {"--epochs", "1"});
  Child c = Start(args, (root_ / "first.log").string());
  ASSERT_EQ(Wait(c), 0) << Slurp(c.log);
  const fs::path ckpt = root_ / "run/checkpoints/ckpt-6";  // 48 training images / 8 = 6 steps
  ASSERT_TRUE(fs::exists(ckpt / "model.index")) << Slurp(c.log);
  const auto mtime = fs::last_write_time(ckpt / "model.index");
  // Edit the saved learning rate as a user's bad setting would: 1e6 diverges at once.
  auto state = nlohmann::json::parse(Slurp((ckpt / "state.json").string()));
  state["learning_rate"] = 1e6;
  ASSERT_TRUE(WriteFileAtomic((ckpt / "state.json").string(), state.dump()).ok());
  Child r = Start({"train", "--run", run, "--resume", "--epochs", "3", "--workers", "1"}, (root_ / "nan.log").string());
  EXPECT_EQ(Wait(r), 1);
  const std::string log = Slurp(r.log);
  EXPECT_TRUE(log.find("NaN") != std::string::npos || log.find("infinite") != std::string::npos) << log;
  EXPECT_NE(log.find("ckpt-6"), std::string::npos) << log;  // names the last good checkpoint
  EXPECT_EQ(fs::last_write_time(ckpt / "model.index"), mtime);
  for (const auto& e : fs::directory_iterator(root_ / "run/checkpoints")) {  // nothing newer
    const std::string n = e.path().filename().string();
    EXPECT_TRUE(n == "best" || (n.rfind("ckpt-", 0) == 0 && std::stol(n.substr(5)) <= 6)) << n;
  }
}

TEST_F(Process, UnwritableRunFolderIsReported) {
  std::vector<std::string> args = TrainArgs("/proc/alexnet-cannot-write-here");
  Child c = Start(args, (root_ / "log").string());
  EXPECT_EQ(Wait(c), 1);
  const std::string log = Slurp(c.log);
  EXPECT_NE(log.find("/proc/alexnet-cannot-write-here"), std::string::npos) << log;
}

TEST_F(Process, MissingDataFolderIsReported) {
  Child c = Start({"train", "--data", (root_ / "nothing-here").string(), "--run", (root_ / "run").string()},
                  (root_ / "log").string());
  EXPECT_EQ(Wait(c), 1);
  EXPECT_NE(Slurp(c.log).find("nothing-here"), std::string::npos) << Slurp(c.log);
}

// The newest complete ckpt-N of a run folder (0 if none): what a resume must continue from.
long NewestCheckpoint(const fs::path& run) {
  long newest = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run / "checkpoints", ec)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("ckpt-", 0) == 0 && n.find('.') == std::string::npos && fs::exists(e.path() / "state.json") &&
        fs::exists(e.path() / "model.index")) {
      newest = std::max(newest, std::stol(n.substr(5)));
    }
  }
  return newest;
}

// Every parameter of a checkpoint, read through TensorFlow's own checkpoint reader (Python).
std::string ParametersOf(const fs::path& prefix, const fs::path& dir) {
  const fs::path py = dir / "read_parameters.py";
  std::ofstream(py) << "import os, sys; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'\n"
                       "import tensorflow as tf, hashlib\n"
                       "r = tf.train.load_checkpoint(sys.argv[1])\n"
                       "for k in sorted(r.get_variable_to_shape_map()):\n"
                       "  if not k.endswith('Momentum'):\n"
                       "    print(k, hashlib.sha256(r.get_tensor(k).tobytes()).hexdigest())\n";
  const fs::path out = dir / "parameters.txt";
  const std::string cmd = std::string(ALEXNET_PYTHON) + " " + py.string() + " " + prefix.string() + " > " +
                          out.string() + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) return "";
  return Slurp(out.string());
}

TEST_F(Process, ASecondTrainerOnTheSameRunFolderIsRefusedWithTheHoldersPid) {
  const std::string run = (root_ / "run").string();
  std::vector<std::string> args = TrainArgs(run, 1000);
  args.insert(args.end(), {"--epochs", "50"});
  Child first = Start(args, (root_ / "first.log").string());
  ASSERT_TRUE(WaitFor(root_ / "run/metrics.csv", first, 240)) << Slurp(first.log);
  for (const std::vector<std::string>& second :
       {std::vector<std::string>{"train", "--run", run, "--resume", "--workers", "1"}, args}) {
    const auto t0 = std::chrono::steady_clock::now();
    Child c = Start(second, (root_ / "second.log").string());
    EXPECT_EQ(Wait(c), 1);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string log = Slurp(c.log);
    EXPECT_NE(log.find("in use by another"), std::string::npos) << log;
    EXPECT_NE(log.find("PID " + std::to_string(first.pid)), std::string::npos) << log;
    EXPECT_LT(seconds, 30) << "refused at once, not after loading data";
  }
  ::kill(first.pid, SIGKILL);  // the kernel drops the lock with the process
  EXPECT_EQ(Wait(first), 128 + SIGKILL);
  std::vector<std::string> again_args = TrainArgs(run, 1000);
  again_args.insert(again_args.end(), {"--epochs", "1"});
  Child again = Start(again_args, (root_ / "again.log").string());
  EXPECT_EQ(Wait(again), 0) << Slurp(again.log);
}

// A truncated data file and a state.json that is not JSON: resume names each damaged checkpoint,
// leaves its files alone and continues from the newest one that restores.
TEST_F(Process, ResumeSkipsDamagedCheckpointsAndUsesTheNewestIntactOne) {
  const std::string run = (root_ / "run").string();
  std::vector<std::string> args = TrainArgs(run, 2);
  args.insert(args.end(), {"--epochs", "1"});
  Child c = Start(args, (root_ / "first.log").string());
  ASSERT_EQ(Wait(c), 0) << Slurp(c.log);
  const fs::path ckpts = root_ / "run/checkpoints";
  ASSERT_TRUE(fs::exists(ckpts / "ckpt-6/model.index") && fs::exists(ckpts / "ckpt-4/model.index"));
  fs::resize_file(ckpts / "ckpt-6/model.data-00000-of-00001", 1000);
  ASSERT_TRUE(WriteFileAtomic((ckpts / "ckpt-4/state.json").string(), "{ not json").ok());
  Child r = Start({"train", "--run", run, "--resume", "--epochs", "1", "--workers", "1"},
                  (root_ / "resume.log").string());
  EXPECT_EQ(Wait(r), 0) << Slurp(r.log);
  const std::string log = Slurp(r.log);
  EXPECT_NE(log.find("ckpt-6: damaged checkpoint skipped"), std::string::npos) << log;
  EXPECT_NE(log.find("ckpt-4: damaged checkpoint skipped"), std::string::npos) << log;
  EXPECT_NE(log.find("resumed from " + (ckpts / "ckpt-2/model").string() + " at step 2"), std::string::npos)
      << log;
  // Kept aside as it was, so the resumed run could write ckpt-4 and ckpt-6 again.
  EXPECT_EQ(fs::file_size(ckpts / "ckpt-6.damaged/model.data-00000-of-00001"), 1000u);
  EXPECT_TRUE(fs::exists(ckpts / "ckpt-4.damaged/state.json"));
  EXPECT_TRUE(fs::exists(ckpts / "ckpt-6/model.index"));
  // Nothing restores: a clear error, not TensorFlow's.
  for (const char* c : {"ckpt-2", "ckpt-4", "ckpt-6"}) {
    if (fs::exists(ckpts / c)) fs::resize_file(ckpts / c / "model.data-00000-of-00001", 10);
  }
  Child none = Start({"train", "--run", run, "--resume", "--epochs", "2", "--workers", "1"},
                     (root_ / "none.log").string());
  EXPECT_EQ(Wait(none), 1);
  EXPECT_NE(Slurp(none.log).find("no checkpoint restores"), std::string::npos) << Slurp(none.log);
}

// SIGKILL at 5 moments, some of them while a checkpoint is being written: each resume continues
// from the newest complete checkpoint, and with dropout off the final weights are those of a run
// that was never interrupted.
TEST_F(Process, FiveKillsLoseOnlyTheStepsSinceTheLastCheckpointAndChangeNothing) {
  const std::string epochs = "4";  // 24 steps, a checkpoint every 2
  std::vector<std::string> whole = TrainArgs((root_ / "whole").string(), 2);
  whole.insert(whole.end(), {"--epochs", epochs});
  Child w = Start(whole, (root_ / "whole.log").string());
  ASSERT_EQ(Wait(w), 0) << Slurp(w.log);

  const fs::path run = root_ / "killed";
  std::vector<std::string> args = TrainArgs(run.string(), 2);
  args.insert(args.end(), {"--epochs", epochs});
  const std::vector<std::string> resume = {"train", "--run", run.string(), "--resume", "--workers", "1",
                                           "--threads", "1"};
  std::mt19937 rng(2026);
  int kills = 0, during_checkpoint = 0;
  long expected = 0;  // the step the next process must resume at (0: a fresh start)
  for (int attempt = 0; kills < 5 && attempt < 12; ++attempt) {
    Child c = Start(expected ? resume : args, (root_ / ("run" + std::to_string(attempt) + ".log")).string());
    // Even kills: a random 0 - 1.5 s after the run has saved a checkpoint of its own; odd kills:
    // the moment a checkpoint is being written (a ckpt-N.tmp folder exists).
    const bool at_checkpoint = kills % 2 == 1;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool exited = false, ready = false, saw_tmp = false;
    while (!exited && !ready && std::chrono::steady_clock::now() < give_up) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(run / "checkpoints", ec)) {
        saw_tmp |= at_checkpoint && NewestCheckpoint(run) > expected && e.path().extension() == ".tmp";
      }
      ready = at_checkpoint ? saw_tmp : NewestCheckpoint(run) > expected;
      int status;
      exited = ::waitpid(c.pid, &status, WNOHANG) == c.pid;
      if (!ready && !exited) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!at_checkpoint && ready) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 1500));
    if (expected) {  // it resumed from the newest complete checkpoint the last one left
      EXPECT_NE(Slurp(c.log).find("at step " + std::to_string(expected)), std::string::npos) << Slurp(c.log);
    }
    if (exited) break;  // it finished before this kill
    ::kill(c.pid, SIGKILL);
    ASSERT_EQ(Wait(c), 128 + SIGKILL);
    ++kills;
    during_checkpoint += saw_tmp;
    expected = NewestCheckpoint(run);
    ASSERT_GT(expected, 0);
  }
  std::printf("%d kills, %d of them while a checkpoint was being written\n", kills, during_checkpoint);
  EXPECT_EQ(kills, 5);
  EXPECT_GE(during_checkpoint, 1);
  Child last = Start(resume, (root_ / "last.log").string());
  ASSERT_EQ(Wait(last), 0) << Slurp(last.log);
  EXPECT_NE(Slurp(last.log).find("at step " + std::to_string(expected)), std::string::npos) << Slurp(last.log);
  const std::string want = ParametersOf(root_ / "whole/checkpoints/ckpt-24/model", root_);
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(ParametersOf(run / "checkpoints/ckpt-24/model", root_), want);
}

}  // namespace
