// The alexnet binary (ALEXNET_BIN, defined by the test target) started as a child process with
// its stdout and stderr in a log file, for tests that kill, interrupt or wait for it.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace alexnet::testing {

struct Child {
  pid_t pid = -1;
  std::string log;  // stdout + stderr go here
};

inline Child Start(const std::vector<std::string>& args, const std::string& log) {
  Child c;
  c.log = log;
  c.pid = ::fork();
  if (c.pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(ALEXNET_BIN));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(ALEXNET_BIN, argv.data());
    ::_exit(127);
  }
  return c;
}

// The child's exit status, or 128 + the signal that ended it.
inline int Wait(const Child& c) {
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The text of the file at `path` ("" when it cannot be read).
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return in ? text.str() : "";
}

// Waits until the child's log holds `text`, looking every 50 ms for up to `seconds`; whether it did.
inline bool LogShows(const Child& c, const std::string& text, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (Slurp(c.log).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Slurp(c.log).find(text) != std::string::npos;
}

}  // namespace alexnet::testing
