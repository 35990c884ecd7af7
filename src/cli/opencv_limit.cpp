#include "cli/opencv_limit.h"

#include <sys/mman.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "data/decode_limits.h"

namespace alexnet::cli {
namespace {

constexpr char kVariable[] = "OPENCV_IO_MAX_IMAGE_PIXELS";
constexpr std::size_t kNameLength = sizeof(kVariable) - 1;

// "OPENCV_IO_MAX_IMAGE_PIXELS=64000000": the name, '=', the default in decimal. A static buffer:
// execve() and the restarted environment need it to outlive the caller.
char* Entry() {
  static char entry[kNameLength + 2 + 20];
  std::memcpy(entry, kVariable, kNameLength);
  entry[kNameLength] = '=';
  const auto end = std::to_chars(entry + kNameLength + 1, entry + sizeof(entry) - 1, data::kDefaultMaxPixels);
  *end.ptr = '\0';
  return entry;
}

}  // namespace

bool OpenCvLimitIsSet(char** envp) {
  for (char** e = envp; e && *e; ++e) {
    if (std::strncmp(*e, kVariable, kNameLength) == 0 && (*e)[kNameLength] == '=') return true;
  }
  return false;
}

void RestartWithOpenCvLimit(char** argv, char** envp) {
  if (argv == nullptr || envp == nullptr) return;
  std::size_t count = 0;
  while (envp[count] != nullptr) ++count;
  // The new environment: the old one plus the entry. mmap, not malloc: libc is not set up yet.
  const std::size_t bytes = (count + 2) * sizeof(char*);
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return;
  char** env = static_cast<char**>(memory);
  std::memcpy(env, envp, count * sizeof(char*));
  env[count] = Entry();
  env[count + 1] = nullptr;
  execve("/proc/self/exe", argv, env);
  munmap(memory, bytes);  // only when execve failed (no /proc)
}

void SetOpenCvLimitForRestart() {
  const char* entry = Entry();
  setenv(kVariable, entry + kNameLength + 1, /*overwrite=*/0);
}

}  // namespace alexnet::cli
