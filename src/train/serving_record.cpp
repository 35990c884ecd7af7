#include "train/serving_record.h"

#include <cstdint>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "data/preprocess.h"

namespace alexnet::train {

namespace {

Result<int> PositiveInt(const nlohmann::json& j, const char* key, const std::string& path) {
  if (!j.contains(key) || !j[key].is_number_integer() || j[key].get<int64_t>() < 1 ||
      j[key].get<int64_t>() > std::numeric_limits<int>::max()) {
    return Status::BadInput(path, std::string("\"") + key + "\" missing or not a positive integer");
  }
  return static_cast<int>(j[key].get<int64_t>());
}

}  // namespace

Result<ServingRecord> ParseServingRecord(const std::string& text, const std::string& path) {
  const nlohmann::json record = nlohmann::json::parse(text, nullptr, false);
  if (!record.is_object()) return Status::BadInput(path, "not a JSON object");
  const auto format = record.find("format");
  if (format == record.end() || !format->is_string() || format->get<std::string>() != kSavedModelFormat) {
    return Status::BadInput(path, std::string("\"format\" is not \"") + kSavedModelFormat + "\"");
  }
  ServingRecord r;
  if (record.contains("run_config")) {
    Result<TrainConfig> cfg = TrainConfigFromJson(record["run_config"]);
    if (!cfg.ok()) return Status::BadInput(path, "\"run_config\": " + cfg.status().reason());
    r.config = std::move(cfg).value();
  }
  ALEXNET_ASSIGN_OR_RETURN(r.config.data.resize, PositiveInt(record, "resize", path));
  ALEXNET_ASSIGN_OR_RETURN(r.config.data.crop, PositiveInt(record, "crop", path));
  ALEXNET_ASSIGN_OR_RETURN(r.classes, PositiveInt(record, "classes", path));
  data::PreprocessOptions p;
  p.resize = r.config.data.resize;
  p.crop = r.config.data.crop;
  ALEXNET_RETURN_IF_ERROR(data::CheckPreprocessOptions(p).With(path));
  const auto decode = record.find("decode");
  r.config.data.max_pixels = 0;
  r.config.data.strict_decode = false;
  if (decode != record.end() && decode->is_object()) {
    const auto max_pixels = decode->find("max_pixels");
    if (max_pixels != decode->end() && max_pixels->is_number_integer()) r.config.data.max_pixels = max_pixels->get<int64_t>();
    const auto strict = decode->find("strict_jpeg");
    if (strict != decode->end() && strict->is_boolean()) r.config.data.strict_decode = strict->get<bool>();
  }
  return r;
}

}  // namespace alexnet::train
