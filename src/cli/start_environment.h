// The environment variables that libraries read while they load, set to the tool's defaults
// before they load.
//
// OPENCV_IO_MAX_IMAGE_PIXELS = data::kDefaultMaxPixels: OpenCV refuses an image whose header
// declares more pixels than this before allocating it, and that is the only check before decoding
// WebP, TIFF and the other formats whose header src/data does not read (data/image_header.h).
// OpenCV 4.6 (Debian) reads it in static initialisers of libopencv_imgcodecs; its default is 2^30.
//
// TF_ENABLE_ONEDNN_OPTS = 1: TensorFlow's oneDNN kernels (convolutions, matrix products, pooling
// and their gradients) on every x86 CPU. The wheel turns them on by itself only on CPUs with
// AVX512-VNNI, bf16 or AMX; on an AVX2 CPU it runs Eigen's kernels, and a training step there took
// 1.4 times as long (BENCHMARKS.md, "oneDNN on a CPU without AVX-512"). TensorFlow decides once,
// while its libraries load (the notice "oneDNN custom operations are on" is printed then): a
// setenv() in main comes too late (checked: no notice, the Eigen kernels ran).
//
// A setenv() in an initfirst constructor (quiet_start.cpp) is lost too: it runs before libc's own
// initialisation, which then sets `environ` back to the environment the process was started with
// (checked: the variable was unset again in main). So the variables reach the libraries only
// through the environment of a new start of the program. quiet_start.cpp already starts the
// program again (for TensorFlow's log level); these add the variables to that restart, or restart
// for them alone when there is none (--verbose, the user's TF_CPP_MIN_LOG_LEVEL=0), before any other
// library's initialiser has run.
//
// A variable the user set, whatever its value, is kept: TF_ENABLE_ONEDNN_OPTS=0 gives TensorFlow's
// Eigen kernels back (to compare). A dataset's max_pixels above the default
// (DataSpec::max_pixels) does not raise OpenCV's limit: set the variable too.
#pragma once

namespace alexnet::cli {

// The value of variable `name` in the environment `envp` (as a constructor receives it, before
// libc's getenv works), or nullptr.
const char* ValueIn(char** envp, const char* name);

// Whether the environment `envp` sets every one of the variables.
bool StartEnvironmentIsSet(char** envp);

// Starts the program again at once (execve of /proc/self/exe: same PID and arguments) with the
// variables `envp` lacks added to it. Usable before libc is initialised (no malloc, no getenv).
// Returns only if the restart failed (then the libraries keep their defaults).
void RestartWithStartEnvironment(char** argv, char** envp);

// setenv() of each variable that is not set; for a restart that main is about to do.
void SetStartEnvironmentForRestart();

}  // namespace alexnet::cli
