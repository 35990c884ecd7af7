// Runs a shell command and returns what it printed on stdout, for tests that drive programs
// (the alexnet binary, the venv's Python, gnuplot) as a user would; and reads the raw float files
// such programs write (the import tests' reference probes).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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

struct Ran {
  int exit = -1;       // the exit code; -1 when the command did not exit (a signal)
  std::string output;  // stdout and stderr
};

inline Ran Shell(const std::string& cmd) {
  int status = 0;
  Ran r;
  r.output = RunCommand(cmd + " 2>&1", &status);
  r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A path as one word of a shell command.
inline std::string Q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// A file of native floats, whole.
inline std::vector<float> ReadFloats(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<float> v(std::filesystem::file_size(path) / sizeof(float));
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

}  // namespace alexnet::testing
