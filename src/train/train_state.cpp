#include "train/train_state.h"

#include <string>

#include "data/json_fields.h"

namespace alexnet::train {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainState, step, epoch, batch_in_epoch, learning_rate, lr_drops,
                                                epochs_without_improvement, best_val_top1, images_seen, train_seconds,
                                                last_loss, schedule_steps)

// schedule_steps is written only when fixed, so a run without a schedule over a time budget
// writes the same state.json as before.
nlohmann::json ToJson(const TrainState& s) {
  nlohmann::json j = s;
  if (s.schedule_steps == 0) j.erase("schedule_steps");
  return j;
}

Result<TrainState> TrainStateFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::BadInput("", "not a JSON object");
  // Without these a resumed run would silently restart its schedule.
  for (const char* key : {"step", "epoch", "batch_in_epoch", "learning_rate"}) {
    if (!j.contains(key)) return Status::BadInput("", std::string("no \"") + key + "\" key");
  }
  // Before the macro's get<int64_t>(): a float there (1e300) would be an undefined cast (json_fields.h).
  TrainState every_key;
  every_key.schedule_steps = 1;
  ALEXNET_RETURN_IF_ERROR(data::CheckIntegerFields(ToJson(every_key), j));
  TrainState s;
  try {
    j.get_to(s);
  } catch (const nlohmann::json::exception& e) {
    return Status::BadInput("", e.what());  // a value of the wrong type
  }
  ALEXNET_RETURN_IF_ERROR(data::CheckIntegersKept(j, ToJson(s)));  // none wrapped into its field
  return s;
}

}  // namespace alexnet::train
