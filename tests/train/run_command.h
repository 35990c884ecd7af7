// Runs a shell command and returns what it printed on stdout, for tests that drive programs
// (the alexnet binary, the venv's Python, gnuplot) as a user would.
#pragma once

#include <cstdio>
#include <string>

namespace alexnet::testing {

// *status is pclose()'s wait status (0 when the command exited 0).
inline std::string RunCommand(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

}  // namespace alexnet::testing
