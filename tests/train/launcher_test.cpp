// The command line `alexnet train --local-workers N` gives its workers (train/launcher.h):
// no TensorFlow, no processes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "train/launcher.h"

namespace {

using alexnet::train::LocalWorkerArguments;
using Args = std::vector<std::string>;

TEST(LocalWorkerArguments, DropsLocalWorkersAndAddsTheRunFolder) {
  EXPECT_EQ(LocalWorkerArguments({"train", "--local-workers", "2", "--epochs", "3"}, "runs/x"),
            (Args{"train", "--epochs", "3", "--run", "runs/x"}));
  EXPECT_EQ(LocalWorkerArguments({"train", "--epochs", "3", "--local-workers=4"}, "runs/x"),
            (Args{"train", "--epochs", "3", "--run", "runs/x"}));
}

TEST(LocalWorkerArguments, KeepsTheRunFolderGiven) {
  EXPECT_EQ(LocalWorkerArguments({"train", "--run", "mine", "--local-workers", "2"}, "mine"),
            (Args{"train", "--run", "mine"}));
  EXPECT_EQ(LocalWorkerArguments({"train", "--local-workers", "2", "--run=mine"}, "mine"),
            (Args{"train", "--run=mine"}));
}

TEST(LocalWorkerArguments, DropsEveryLocalWorkersAndKeepsTheRest) {
  EXPECT_EQ(LocalWorkerArguments({"train", "--local-workers", "2", "--local-workers=3", "--resume", "--run", "r"}, "r"),
            (Args{"train", "--resume", "--run", "r"}));
  // A value that only starts like the flag is not the flag.
  EXPECT_EQ(LocalWorkerArguments({"train", "--data", "--local-workers-data", "--runs", "x"}, "r"),
            (Args{"train", "--data", "--local-workers-data", "--runs", "x", "--run", "r"}));
}

TEST(ThisProgram, IsTheRunningBinary) {
  EXPECT_NE(alexnet::train::ThisProgram().find("cluster_test"), std::string::npos) << alexnet::train::ThisProgram();
}

}  // namespace
