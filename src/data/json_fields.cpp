#include "data/json_fields.h"

namespace alexnet::data {

Status check_integer_fields(const nlohmann::json& written, const nlohmann::json& input, const std::string& prefix) {
  if (!written.is_object() || !input.is_object()) return Status::Ok();
  for (const auto& [key, model] : written.items()) {
    const auto it = input.find(key);
    if (it == input.end()) continue;
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (model.is_number_integer() && it->is_number_float()) {
      return Status::Error("", "\"" + name + "\" must be an integer, not " + it->dump());
    }
    ALEXNET_DATA_RETURN_IF_ERROR(check_integer_fields(model, *it, name));
  }
  return Status::Ok();
}

Status check_integers_kept(const nlohmann::json& input, const nlohmann::json& read_back, const std::string& prefix) {
  if (!input.is_object() || !read_back.is_object()) return Status::Ok();
  for (const auto& [key, value] : input.items()) {
    const auto it = read_back.find(key);
    if (it == read_back.end()) continue;
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    // dump(), not ==: nlohmann compares 2^63 (unsigned) with the -2^63 it wrapped to as equal
    if (value.is_number_integer() && it->is_number_integer() && value.dump() != it->dump()) {
      return Status::Error("", "\"" + name + "\" is out of range: " + value.dump());
    }
    ALEXNET_DATA_RETURN_IF_ERROR(check_integers_kept(value, *it, name));
  }
  return Status::Ok();
}

}  // namespace alexnet::data
