// The command line as typed, recorded on the pages inspect and the experiments write
// (src/cli/command.h): pasted into a shell, it gives the same arguments back.
#include "cli/command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace alexnet::cli {
namespace {

TEST(ShellCommandLine, PlainArgumentsStayAsTyped) {
  EXPECT_EQ(ShellCommandLine({"alexnet", "experiment", "relu", "--seeds", "1,2", "--out", "runs/a-b_c.d:e=f+g@h%"}),
            "alexnet experiment relu --seeds 1,2 --out runs/a-b_c.d:e=f+g@h%");
}

TEST(ShellCommandLine, QuotesWhatAShellWouldSplitOrExpand) {
  EXPECT_EQ(ShellCommandLine({"alexnet", "inspect", "my cat.jpg", "--out", ""}), "alexnet inspect 'my cat.jpg' --out ''");
  EXPECT_EQ(ShellCommandLine({"a", "$HOME", "*.png", "x;y"}), "a '$HOME' '*.png' 'x;y'");
  EXPECT_EQ(ShellCommandLine({"a", "it's"}), "a 'it'\\''s'");
}

}  // namespace
}  // namespace alexnet::cli
