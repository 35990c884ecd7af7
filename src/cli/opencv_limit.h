// OpenCV's decode limit set to the tool's default before OpenCV reads it.
//
// Why: OpenCV refuses an image whose header declares more than OPENCV_IO_MAX_IMAGE_PIXELS before
// allocating it, and that is the only check before decoding WebP, TIFF and the other formats
// whose header src/data does not read (data/image_header.h). OpenCV 4.6 (Debian) reads the
// variable in static initialisers of libopencv_imgcodecs, while the libraries load, before main;
// its default is 2^30 pixels. A setenv() in main comes too late, and one in an initfirst
// constructor (quiet_start.cpp) is lost: it runs before libc's own initialisation, which then
// sets `environ` back to the environment the process was started with (checked: the variable
// was unset again in main). So the variable reaches OpenCV only through the environment of a
// new start of the program. quiet_start.cpp already starts the program again (for TensorFlow's
// log level); these add the variable to that restart, or restart for it alone when there is none
// (--verbose, the user's TF_CPP_MIN_LOG_LEVEL), before any other library's initialiser has run.
//
// The user's own OPENCV_IO_MAX_IMAGE_PIXELS, whatever its value, is kept. A dataset's max_pixels
// above the default (DataSpec::max_pixels) does not raise it: set the variable too.
#pragma once

namespace alexnet::cli {

// Whether the environment `envp` (as a constructor receives it) sets OPENCV_IO_MAX_IMAGE_PIXELS.
bool OpenCvLimitIsSet(char** envp);

// Starts the program again at once (execve of /proc/self/exe: same PID and arguments) with
// OPENCV_IO_MAX_IMAGE_PIXELS=kDefaultMaxPixels added to `envp`. Usable before libc is
// initialised (no malloc, no getenv). Returns only if the restart failed (then OpenCV keeps its
// default).
void RestartWithOpenCvLimit(char** argv, char** envp);

// setenv() of the same, unless set; for a restart that main is about to do.
void SetOpenCvLimitForRestart();

}  // namespace alexnet::cli
