// The training run the TrainedRun tests share (train_test.cpp, saved_model_test.cpp: one
// executable, one CTest entry): a small AlexNet trained once on generated shapes in
// SetUpTestSuite, and helpers that run the alexnet binary and the venv's Python on it.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "run_command.h"
#include "shapes_dataset.h"
#include "train/config.h"
#include "train/trainer.h"
#include "util/files.h"

namespace alexnet::testing {

namespace fs = std::filesystem;
using train::TrainConfig;


// Runs a Python script with the venv's interpreter (TensorFlow's own reader of our files) on one
// argument; returns its stdout.
inline std::string RunPython(const fs::path& dir, const std::string& name, const std::string& script,
                      const std::string& arg, int* status) {
  const fs::path py = dir / name;
  if (Status st = WriteFileAtomic(py.string(), script); !st.ok()) {
    *status = -1;
    return st.message();
  }
  return RunCommand(std::string(ALEXNET_PYTHON) + " " + py.string() + " " + arg + " 2>/dev/null", status);
}

// The small configuration the tests train: 67 x 67 inputs (the smallest AlexNet accepts).
inline TrainConfig SmallConfig(const fs::path& data, const fs::path& run) {
  TrainConfig c;
  c.data.source = data.string();
  c.data.val_fraction = 0.25;
  c.data.resize = 72;
  c.data.crop = 67;
  c.model.init = model::Init::kHe;
  c.model.standardize_input = true;  // He with unit-variance inputs: the paper's learning rate works
  c.recipe.batch = 16;
  c.recipe.epochs = 12;
  c.recipe.lr = 0.002f;  // batch 16: the paper's 0.01 at batch 128 diverged here
  c.recipe.patience = 2;
  c.run.run_dir = run.string();
  c.run.checkpoint_every = 0;
  c.run.log_every_s = 5;
  return c;
}

class TrainedRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("alexnet_train_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    alexnet::testing::WriteShapesDataset(root_ / "shapes", 40, 11);
    const Status trained = train::Train(SmallConfig(root_ / "shapes", root_ / "run"), false, {}, nullptr, std::cout);
    if (!trained.ok()) std::printf("training failed: %s\n", trained.message().c_str());
    status_ = trained.ok() ? 0 : 1;
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static fs::path run() { return root_ / "run"; }
  // Runs `alexnet eval --run <run> ARGS --output <root>/OUT_NAME` and reads the eval.json it
  // writes; returns the command's output on failure, "" on success.
  static std::string RunEval(const std::string& args, const std::string& out_name, nlohmann::json* report) {
    const fs::path out_dir = root_ / out_name;
    int status = 0;
    const std::string out = RunCommand(std::string(ALEXNET_BIN) + " eval --run " + run().string() + " " + args +
                                           " --output " + out_dir.string() + " 2>&1",
                                       &status);
    if (status != 0) return "exit status " + std::to_string(status) + ":\n" + out;
    Result<std::string> text = ReadFile((out_dir / "eval.json").string());
    if (!text.ok()) return text.status().message();
    *report = nlohmann::json::parse(*text);
    return "";
  }

  inline static fs::path root_;
  inline static int status_ = -1;
};

}  // namespace alexnet::testing
