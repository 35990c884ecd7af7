#include "train/schedule.h"

#include <cstdio>

#include "util/csv.h"
#include "util/format.h"

namespace alexnet::train {

namespace {
}  // namespace

std::string MetricsCsvHeader() {
  return CsvRow({"epoch", "step", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "lr",
                 "images_per_s", "train_seconds"});
}

std::string MetricsCsvRow(const EpochRecord& r) {
  auto val = [&](double ValMetrics::*field) { return r.val ? FormatFixed((*r.val).*field, 6) : ""; };
  return CsvRow({std::to_string(r.epoch), std::to_string(r.step), CsvNumber(r.train_loss), CsvNumber(r.train_top1),
                 val(&ValMetrics::loss), val(&ValMetrics::top1), val(&ValMetrics::top5), CsvNumber(r.learning_rate),
                 CsvNumber(r.images_per_s), CsvNumber(r.train_seconds)});
}

std::string EpochLine(const EpochRecord& r) {
  std::string line = "epoch " + std::to_string(r.epoch) + (r.partial ? " (partial)" : "") + "  step " +
                     std::to_string(r.step) + "  train loss " + FormatFixed(r.train_loss, 4) + "  train top-1 " +
                     FormatFixed(r.train_top1, 4);
  if (r.val) {
    line += "  val loss " + FormatFixed(r.val->loss, 4) + "  val top-1 " + FormatFixed(r.val->top1, 4) +
            "  val top-5 " + FormatFixed(r.val->top5, 4);
  }
  return line + "  lr " + CsvNumber(r.learning_rate);
}

ScheduleDecision AfterEpoch(const Recipe& recipe, TrainState state, int64_t epoch, bool partial,
                            std::optional<double> val_top1) {
  ScheduleDecision d;
  if (val_top1 && *val_top1 > state.best_val_top1) {
    state.best_val_top1 = *val_top1;
    state.epochs_without_improvement = 0;
    d.best = true;
  } else if (!partial) {
    state.epochs_without_improvement += 1;
  }
  if (!partial) {
    if (recipe.schedule == LrSchedule::kStep) {
      d.lr_dropped = epoch % recipe.step_epochs == 0;
    } else {
      d.lr_dropped = val_top1 && state.epochs_without_improvement >= recipe.patience &&
                     state.lr_drops < recipe.max_lr_drops;
      if (d.lr_dropped) state.epochs_without_improvement = 0;
    }
    if (d.lr_dropped) {
      state.learning_rate /= 10;
      state.lr_drops += 1;
    }
  }
  d.state = state;
  return d;
}

}  // namespace alexnet::train
