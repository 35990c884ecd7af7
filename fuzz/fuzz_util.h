// Shared by the fuzz targets: a private temporary folder (in /dev/shm when it exists, so the
// per-input file costs no disk I/O) where targets whose parser takes a path write each input.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace alexnet::fuzz {

// The folder, created on first use and removed (with its files) when the process exits.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (base / "alexnet-fuzz-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::perror("alexnet fuzz: mkdtemp");
      std::abort();
    }
    static std::string removed_at_exit;
    removed_at_exit = tmpl;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(removed_at_exit, ignored);
    });
    return tmpl;
  }();
  return dir;
}

// Writes the bytes to ScratchDir()/name (replacing it) and returns the path. A failure here is
// the machine's, not the parser's: abort loudly rather than fuzz nothing.
inline std::string WriteScratchFile(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = ScratchDir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(("alexnet fuzz: cannot write " + path).c_str());
    std::abort();
  }
  return path;
}

}  // namespace alexnet::fuzz
