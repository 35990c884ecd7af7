#include "cli/start_environment.h"

#include <sys/mman.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "data/decode_limits.h"

namespace alexnet::cli {
namespace {

// "NAME=value" entries in static buffers: execve() and the restarted environment need them to
// outlive the caller, and nothing here may allocate (libc may not be set up yet).
constexpr std::size_t kEntrySize = 64;

void Fill(char* entry, const char* name, const char* value) {
  const std::size_t n = std::strlen(name);
  std::memcpy(entry, name, n);
  entry[n] = '=';
  std::strcpy(entry + n + 1, value);  // every value below fits (kEntrySize)
}

constexpr int kVariables = 2;
constexpr const char* kNames[kVariables] = {"OPENCV_IO_MAX_IMAGE_PIXELS", "TF_ENABLE_ONEDNN_OPTS"};

char* OpenCvEntry() {
  static char entry[kEntrySize];
  char value[24];
  const auto end = std::to_chars(value, value + sizeof(value) - 1, data::kDefaultMaxPixels);
  *end.ptr = '\0';
  Fill(entry, kNames[0], value);
  return entry;
}

char* OneDnnEntry() {
  static char entry[kEntrySize];
  Fill(entry, kNames[1], "1");
  return entry;
}

char* EntryAt(int i) { return i == 0 ? OpenCvEntry() : OneDnnEntry(); }

bool IsSet(char** envp, int i) { return ValueIn(envp, kNames[i]) != nullptr; }

}  // namespace

const char* ValueIn(char** envp, const char* name) {
  const std::size_t n = std::strlen(name);
  for (char** e = envp; e && *e; ++e) {
    if (std::strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
  }
  return nullptr;
}

bool StartEnvironmentIsSet(char** envp) {
  for (int i = 0; i < kVariables; ++i) {
    if (!IsSet(envp, i)) return false;
  }
  return true;
}

void RestartWithStartEnvironment(char** argv, char** envp) {
  if (argv == nullptr || envp == nullptr) return;
  std::size_t count = 0;
  while (envp[count] != nullptr) ++count;
  // The new environment: the old one plus the missing entries. mmap, not malloc: libc is not set up yet.
  const std::size_t bytes = (count + kVariables + 1) * sizeof(char*);
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return;
  char** env = static_cast<char**>(memory);
  std::memcpy(env, envp, count * sizeof(char*));
  for (int i = 0; i < kVariables; ++i) {
    if (!IsSet(envp, i)) env[count++] = EntryAt(i);
  }
  env[count] = nullptr;
  execve("/proc/self/exe", argv, env);
  munmap(memory, bytes);  // only when execve failed (no /proc)
}

void SetStartEnvironmentForRestart() {
  for (int i = 0; i < kVariables; ++i) {
    setenv(kNames[i], EntryAt(i) + std::strlen(kNames[i]) + 1, /*overwrite=*/0);
  }
}

}  // namespace alexnet::cli
