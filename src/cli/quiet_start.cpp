#include "cli/quiet_start.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/start_environment.h"

namespace alexnet::cli {
namespace {

int g_saved_stderr = -1;  // the real stderr while start-up output is captured
int g_capture = -1;       // the in-memory file it goes to meanwhile

constexpr char kReexecMarker[] = "ALEXNET_QUIET_REEXEC";  // set for the second run by EndQuietStart
bool g_quiet_restarted = false;  // this process is that second run

// Whether stderr is to be captured during start-up: not when the user asks for TensorFlow's
// lines (--verbose, or their own TF_CPP_MIN_LOG_LEVEL=0). A user's higher level asks for fewer
// lines, which TensorFlow's start-up lines ignore (the oneDNN notice comes with level 2 too):
// those are captured and filtered as without it.
bool WantsQuietStart(int argc, char** argv, char** envp) {
  const char* level = ValueIn(envp, "TF_CPP_MIN_LOG_LEVEL");
  if (level != nullptr && std::strcmp(level, "0") == 0 && ValueIn(envp, kReexecMarker) == nullptr) return false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--verbose") == 0) return false;
  }
  return true;
}

bool CaptureStderr() {
  g_capture = memfd_create("alexnet-start-up-stderr", MFD_CLOEXEC);
  if (g_capture < 0) return false;
  g_saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (g_saved_stderr < 0 || dup2(g_capture, STDERR_FILENO) < 0) {
    close(g_capture);
    g_capture = -1;
    return false;
  }
  return true;
}

// Runs before libc's own initialisation, so it reads the arguments and environment it is given
// instead of calling getenv().
__attribute__((constructor)) void BeginQuietStart(int argc, char** argv, char** envp) {
  if (WantsQuietStart(argc, argv, envp) && CaptureStderr()) return;  // EndQuietStart restarts
  // No restart by EndQuietStart to come: the load-time variables need one of their own
  // (start_environment.h).
  if (!StartEnvironmentIsSet(envp)) RestartWithStartEnvironment(argv, envp);
}

// TensorFlow's start-up lines that say nothing to a user of this tool.
bool IsStartUpNoise(const std::string& line) {
  if (line.rfind("WARNING: All log messages before absl::InitializeLog() is called", 0) == 0) return true;
  // absl's informational format: I<mmdd> <time> <thread> <file>:<line>] ...
  return line.size() > 5 && line[0] == 'I' && std::isdigit(static_cast<unsigned char>(line[1])) &&
         line.find("] ") != std::string::npos;
}

void ShowCaptured() {
  std::string captured;
  char buf[4096];
  for (ssize_t n, at = 0; (n = pread(g_capture, buf, sizeof buf, at)) > 0; at += n) captured.append(buf, n);
  for (size_t start = 0; start < captured.size();) {
    size_t end = captured.find('\n', start);
    if (end == std::string::npos) end = captured.size();
    const std::string line = captured.substr(start, end - start);
    if (!IsStartUpNoise(line)) std::fprintf(stderr, "%s\n", line.c_str());
    start = end + 1;
  }
}

}  // namespace

void StartChildrenQuietly() {
  if (g_quiet_restarted) setenv(kReexecMarker, "1", 1);
}

void EndQuietStart(char** argv) {
  if (g_capture < 0) return;
  dup2(g_saved_stderr, STDERR_FILENO);
  close(g_saved_stderr);
  if (std::getenv(kReexecMarker) == nullptr) {
    setenv("TF_CPP_MIN_LOG_LEVEL", "2", /*overwrite=*/0);  // the user's own level (1 to 3) is kept
    setenv(kReexecMarker, "1", 1);
    SetStartEnvironmentForRestart();  // read by OpenCV and TensorFlow while they load
    execv("/proc/self/exe", argv);  // returns only on failure: carry on, a little noisier
  }
  unsetenv(kReexecMarker);
  g_quiet_restarted = true;
  ShowCaptured();
  close(g_capture);
  g_capture = -1;
}

}  // namespace alexnet::cli
