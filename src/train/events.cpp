#include "train/events.h"

#include <chrono>

#include <tensorflow/core/framework/summary.pb.h>
#include <tensorflow/core/util/event.pb.h>
#include <tensorflow/core/util/events_writer.h>

#include "model/tf_status.h"

namespace alexnet::train {

namespace {
double WallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

EventLog::EventLog(const std::string& run_dir)
    : writer_(std::make_unique<tensorflow::EventsWriter>(run_dir + "/events")) {}

EventLog::~EventLog() {
  if (writer_) writer_->Close().IgnoreError();
}

void EventLog::Scalar(const std::string& tag, int64_t step, double value) {
  tensorflow::Event e;
  e.set_wall_time(WallTime());
  e.set_step(step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  v->set_simple_value(static_cast<float>(value));
  writer_->WriteEvent(e);
}

void EventLog::Image(const std::string& tag, int64_t step, const std::string& png, int height, int width) {
  tensorflow::Event e;
  e.set_wall_time(WallTime());
  e.set_step(step);
  tensorflow::Summary::Value* v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  tensorflow::Summary::Image* img = v->mutable_image();
  img->set_height(height);
  img->set_width(width);
  img->set_colorspace(3);
  img->set_encoded_image_string(png);
  writer_->WriteEvent(e);
}

Status EventLog::Flush() { return model::FromTf(writer_->Flush()); }

}  // namespace alexnet::train
