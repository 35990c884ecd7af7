// TensorBoard event file of a run (loss, accuracy, learning rate, images/s, filter images),
// written with TensorFlow's own EventsWriter, so `tensorboard --logdir <run>` shows it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "util/status.h"

namespace tensorflow {
class EventsWriter;
}

namespace alexnet::train {

class EventLog {
 public:
  explicit EventLog(const std::string& run_dir);  // <run>/events.out.tfevents.*
  ~EventLog();
  void Scalar(const std::string& tag, int64_t step, double value);
  // An encoded PNG of the given size.
  void Image(const std::string& tag, int64_t step, const std::string& png, int height, int width);
  Status Flush();

 private:
  std::unique_ptr<tensorflow::EventsWriter> writer_;
};

}  // namespace alexnet::train
