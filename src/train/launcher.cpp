#include "train/launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "util/files.h"

namespace alexnet::train {

namespace {

constexpr int kMaxWorkers = 64;
std::atomic<pid_t> g_children[kMaxWorkers];
std::atomic<int> g_child_count{0};

// Forwards to every worker (each runs in its own process group, so a Ctrl-C on the terminal
// reaches them once, through here).
void Forward(int sig) {
  for (int i = 0; i < g_child_count.load(); ++i) {
    const pid_t pid = g_children[i].load();
    if (pid > 0) ::kill(pid, sig);
  }
}

// N distinct free ports on 127.0.0.1: all N sockets are held open until every port is known.
Result<std::vector<int>> FreePorts(int n) {
  std::vector<int> fds, ports;
  Status error;
  for (int i = 0; i < n && error.ok(); ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      error = Status::Io("", std::string("cannot find a free port on 127.0.0.1: ") + std::strerror(errno));
    } else {
      ports.push_back(ntohs(a.sin_port));
    }
    if (fd >= 0) fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  if (!error.ok()) return error;
  return ports;
}

pid_t Spawn(const LocalWorkers& r, const std::string& cluster, int task, const std::string& log) {
  std::vector<std::string> args = r.args;
  args.insert(args.end(), {"--cluster", cluster, "--task", std::to_string(task)});
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::setpgid(0, 0);
  ::setenv(kLoopbackOnlyEnv, "1", 1);
  if (!log.empty()) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(r.program.c_str()));
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(r.program.c_str(), argv.data());
  ::_exit(127);
}

int ExitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

std::vector<std::string> LocalWorkerArguments(std::vector<std::string> args, const std::string& run_dir) {
  bool has_run = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--local-workers" && i + 1 < args.size()) {
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      --i;
    } else if (args[i].rfind("--local-workers=", 0) == 0) {
      args.erase(args.begin() + static_cast<long>(i));
      --i;
    } else {
      has_run |= args[i] == "--run" || args[i].rfind("--run=", 0) == 0;
    }
  }
  if (!has_run) args.insert(args.end(), {"--run", run_dir});  // one run folder for all
  return args;
}

std::string ThisProgram() {
  std::error_code ec;
  const std::string program = std::filesystem::read_symlink("/proc/self/exe", ec).string();  // by its name
  return ec ? "/proc/self/exe" : program;
}

Result<int> RunLocalWorkers(const LocalWorkers& r, std::ostream& out) {
  if (r.count < 1 || r.count > kMaxWorkers) {
    return Status::BadInput("", "--local-workers must be 1.." + std::to_string(kMaxWorkers));
  }
  ALEXNET_ASSIGN_OR_RETURN(const std::vector<int> ports, FreePorts(r.count));
  std::string cluster;
  for (int p : ports) cluster += (cluster.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(p);
  ALEXNET_RETURN_IF_ERROR(MakeFolder(r.run_dir));
  out << "starting " << r.count << " workers on 127.0.0.1 (" << cluster << "); task 0 writes here, task I to "
      << r.run_dir << "/worker-I.log" << std::endl;
  struct sigaction sa {};
  sa.sa_handler = Forward;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  std::vector<pid_t> pids;
  for (int i = 0; i < r.count; ++i) {
    const std::string log = i == 0 ? "" : r.run_dir + "/worker-" + std::to_string(i) + ".log";
    pids.push_back(Spawn(r, cluster, i, log));
    g_children[i].store(pids.back());
    g_child_count.store(i + 1);
  }
  std::vector<int> codes(pids.size(), -1);
  int running = r.count;
  using Clock = std::chrono::steady_clock;
  Clock::time_point first_end{};  // the chief's exit, or the first failure of any worker
  bool ended = false, killed = false;
  while (running > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (size_t i = 0; i < pids.size(); ++i) {
        if (pids[i] != pid) continue;
        codes[i] = ExitCode(status);
        g_children[i].store(-1);
        --running;
        if ((i == 0 || codes[i] != 0) && !ended) {
          first_end = Clock::now();
          ended = true;
        }
        if (i > 0 && codes[i] != 0) {
          out << "worker task " << i << " exited with status " << codes[i] << " (see " << r.run_dir << "/worker-" << i
              << ".log)" << std::endl;
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    // The others end by themselves after the chief, or fail within the collective timeout after
    // a worker failed; except at start-up, where they would wait the longer start-up timeout
    // for a worker that is gone. So whoever is left that long after is killed.
    if (ended && !killed && Clock::now() - first_end > std::chrono::duration<double>(r.collective_timeout_s + 30)) {
      Forward(SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  g_child_count.store(0);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return codes[0];
}

}  // namespace alexnet::train
