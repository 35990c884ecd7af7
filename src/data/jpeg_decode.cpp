#include "data/jpeg_decode.h"

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t declared before it
#include <cstring>
#include <exception>

#include <jerror.h>
#include <jpeglib.h>

#include <opencv2/imgproc.hpp>

#include "data/image_header.h"

namespace alexnet::data {
namespace {

// Distinct warning texts kept per file; the count includes every warning.
constexpr int kMaxWarningTexts = 4;

// libjpeg's error manager with room for what its callbacks report. The callbacks run inside
// libjpeg (C code): they only write into these fixed buffers and never allocate or throw.
struct ErrorManager {
  jpeg_error_mgr pub;  // first member: libjpeg's cinfo->err points at it, and so at us
  std::jmp_buf jump;
  char error[JMSG_LENGTH_MAX];
  char warnings[kMaxWarningTexts][JMSG_LENGTH_MAX];
  int stored;
  long count;
  bool ended_early;  // libjpeg met the end of the data (JWRN_JPEG_EOF) and inserted an EOI
};

ErrorManager& Manager(j_common_ptr cinfo) { return *reinterpret_cast<ErrorManager*>(cinfo->err); }

// error_exit: libjpeg cannot go on. Keep its text and jump back to DecodeWithLibjpeg.
[[noreturn]] void OnError(j_common_ptr cinfo) {
  ErrorManager& m = Manager(cinfo);
  (*cinfo->err->format_message)(cinfo, m.error);
  std::longjmp(m.jump, 1);
}

// emit_message: level -1 is a warning (corrupt data, decoding goes on), 0 and up are trace
// messages (ignored). libjpeg's default prints the first warning to stderr; we keep it instead.
void OnMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level >= 0) return;
  // An unknown JFIF version number says nothing about the pixels: the image is intact.
  if (cinfo->err->msg_code == JWRN_JFIF_MAJOR) return;
  ErrorManager& m = Manager(cinfo);
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) m.ended_early = true;
  ++m.pub.num_warnings;
  ++m.count;
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  for (int i = 0; i < m.stored; ++i) {
    if (std::strcmp(m.warnings[i], text) == 0) return;
  }
  if (m.stored < kMaxWarningTexts) std::memcpy(m.warnings[m.stored++], text, sizeof(text));
}

// output_message: libjpeg's default writes to stderr; nothing here calls it, but a library
// path that did must not print either.
void OnOutput(j_common_ptr) {}

// One decompression: its libjpeg state is released when this goes out of scope, however the
// decode ended (libjpeg error, C++ exception, success).
struct Session {
  jpeg_decompress_struct cinfo{};  // zeroed: jpeg_destroy is safe even if creation failed
  ErrorManager err{};
  ~Session() { jpeg_destroy_decompress(&cinfo); }
};

// OpenCV 4.6 (icvCvt_CMYK2BGR_8u_C4C3R) takes libjpeg's CMYK output as Adobe's inverted CMYK.
void CmykToRgb(const cv::Mat& cmyk, cv::Mat& rgb) {
  rgb.create(cmyk.rows, cmyk.cols, CV_8UC3);
  for (int y = 0; y < cmyk.rows; ++y) {
    const std::uint8_t* s = cmyk.ptr<std::uint8_t>(y);
    std::uint8_t* o = rgb.ptr<std::uint8_t>(y);
    for (int x = 0; x < cmyk.cols; ++x, s += 4, o += 3) {
      const int k = s[3];
      o[0] = static_cast<std::uint8_t>(k - ((255 - s[0]) * k >> 8));
      o[1] = static_cast<std::uint8_t>(k - ((255 - s[1]) * k >> 8));
      o[2] = static_cast<std::uint8_t>(k - ((255 - s[2]) * k >> 8));
    }
  }
}

// First phase: libjpeg reads the markers up to the first scan (frame size, APP1 kept for EXIF);
// nothing image-sized is allocated yet. Returns false when libjpeg gave up (reason in
// s.err.error). libjpeg's error_exit longjmps back here, so no C++ object with a destructor
// may be created in this function after setjmp; the same holds for DecodePixels.
bool ReadHeader(Session& s, const std::uint8_t* data, std::size_t size) {
  jpeg_decompress_struct* cinfo = &s.cinfo;
  cinfo->err = jpeg_std_error(&s.err.pub);
  s.err.pub.error_exit = OnError;
  s.err.pub.emit_message = OnMessage;
  s.err.pub.output_message = OnOutput;
  if (setjmp(s.err.jump) != 0) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(cinfo, TRUE);
  return true;
}

// EXIF orientation from the first APP1 segment that starts "Exif\0\0" (a TIFF block follows).
int JpegExifOrientation(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && std::memcmp(m->data, "Exif\0\0", 6) == 0) {
      return ExifOrientation(m->data + 6, m->data_length - 6);
    }
  }
  return 1;
}

// Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so an FF D9
// after the first scan's header can only be the end-of-image marker.
bool HasEndOfImage(const std::uint8_t* data, std::size_t size, std::size_t scan_start) {
  if (size < 2) return false;
  for (std::size_t i = size - 1; i > scan_start; --i) {
    if (data[i] == 0xD9 && data[i - 1] == 0xFF) return true;
  }
  return false;
}

// Second phase: the pixels. Colour images are decoded straight into `rgb`; greyscale (1
// channel) and CMYK (4 channels) into `other`. Returns false when libjpeg gave up. A C++
// exception (out of memory in Mat::create) passes through to the caller, whose Session cleans up.
bool DecodePixels(Session& s, cv::Mat& rgb, cv::Mat& other) {
  jpeg_decompress_struct* cinfo = &s.cinfo;
  if (setjmp(s.err.jump) != 0) return false;
  // OpenCV's choices (grfmt_jpeg.cpp, IMREAD_UNCHANGED): libjpeg's defaults (JDCT_ISLOW, fancy
  // upsampling, no scaling); 4 components are read as CMYK, anything else with more than one
  // component as colour (OpenCV asks for BGR; RGB is the same values in our order).
  if (cinfo->num_components == 4) {
    cinfo->out_color_space = JCS_CMYK;
  } else if (cinfo->num_components > 1) {
    cinfo->out_color_space = JCS_RGB;
  } else {
    cinfo->out_color_space = JCS_GRAYSCALE;
  }
  cinfo->dct_method = JDCT_ISLOW;  // libjpeg's defaults, which OpenCV keeps; set to pin them
  cinfo->do_fancy_upsampling = TRUE;
  jpeg_start_decompress(cinfo);
  cv::Mat& out = cinfo->out_color_space == JCS_RGB ? rgb : other;
  out.create(static_cast<int>(cinfo->output_height), static_cast<int>(cinfo->output_width),
             CV_8UC(cinfo->output_components));
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out.ptr<JSAMPLE>(static_cast<int>(cinfo->output_scanline));
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) break;  // a memory source never suspends
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

}  // namespace

Status DecodeJpeg(const std::uint8_t* data, std::size_t size, const std::string& name,
                   const JpegHeaderCheck& check, cv::Mat& rgb, DecodeWarnings& warnings) {
  warnings = DecodeWarnings();
  thread_local cv::Mat other;  // greyscale or CMYK pixels, reused across files
  Session s;
  try {
    const bool header_read = ReadHeader(s, data, size);
    // At the end of the data libjpeg's memory source inserts an end-of-image marker (outside
    // `data`) and warns: the header was cut short, whatever libjpeg made of it.
    if (!header_read || s.err.ended_early) {
      const std::string why = header_read ? "the data ends inside it" : std::string("libjpeg: ") + s.err.error;
      return Status::BadInput(name, std::string(s.err.ended_early ? "truncated JPEG header" : "corrupt or unsupported JPEG data") +
                                     " (" + why + ")");
    }
    JpegHeader header;
    header.width = s.cinfo.image_width;
    header.height = s.cinfo.image_height;
    header.orientation = JpegExifOrientation(s.cinfo);
    ALEXNET_RETURN_IF_ERROR(check(header));
    // The source stops right after the first scan's header (inside `data`: it did not end early).
    const std::size_t scan_start = static_cast<std::size_t>(s.cinfo.src->next_input_byte - data);
    if (!HasEndOfImage(data, size, scan_start)) {
      return Status::BadInput(name, "truncated JPEG (no end-of-image marker; " + std::to_string(size) + " bytes)");
    }
    if (!DecodePixels(s, rgb, other)) {
      return Status::BadInput(name, std::string("corrupt or unsupported JPEG data (libjpeg: ") + s.err.error + ")");
    }
    if (s.cinfo.out_color_space == JCS_GRAYSCALE) {
      cv::cvtColor(other, rgb, cv::COLOR_GRAY2RGB);
    } else if (s.cinfo.out_color_space == JCS_CMYK) {
      CmykToRgb(other, rgb);
    }
  } catch (const std::exception& e) {
    return Status::BadInput(name, std::string("JPEG decoding failed: ") + e.what());
  }
  if (other.total() > (16u << 20)) other.release();  // stay bounded after a huge image
  warnings.count = s.err.count;
  for (int i = 0; i < s.err.stored; ++i) warnings.messages.emplace_back(s.err.warnings[i]);
  return Status::Ok();
}

}  // namespace alexnet::data
