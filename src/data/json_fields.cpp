#include "data/json_fields.h"

namespace alexnet::data {
namespace {

// Calls check(name, a_value, b_value) for every key both objects hold, and goes on into the
// objects both hold under the same key; names are the keys joined with '.' after `prefix`.
template <typename Check>
Status ForSharedKeys(const nlohmann::json& a, const nlohmann::json& b, const std::string& prefix, const Check& check) {
  if (!a.is_object() || !b.is_object()) return Status::Ok();
  for (const auto& [key, value] : a.items()) {
    const auto it = b.find(key);
    if (it == b.end()) continue;
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    ALEXNET_RETURN_IF_ERROR(check(name, value, *it));
    ALEXNET_RETURN_IF_ERROR(ForSharedKeys(value, *it, name, check));
  }
  return Status::Ok();
}

}  // namespace

Status CheckIntegerFields(const nlohmann::json& written, const nlohmann::json& input, const std::string& prefix) {
  return ForSharedKeys(written, input, prefix, [](const std::string& name, const auto& model, const auto& value) {
    if (model.is_number_integer() && value.is_number_float()) {
      return Status::BadInput("", "\"" + name + "\" must be an integer, not " + value.dump());
    }
    return Status::Ok();
  });
}

Status CheckIntegersKept(const nlohmann::json& input, const nlohmann::json& read_back, const std::string& prefix) {
  return ForSharedKeys(input, read_back, prefix, [](const std::string& name, const auto& value, const auto& back) {
    // dump(), not ==: nlohmann compares 2^63 (unsigned) with the -2^63 it wrapped to as equal
    if (value.is_number_integer() && back.is_number_integer() && value.dump() != back.dump()) {
      return Status::BadInput("", "\"" + name + "\" is out of range: " + value.dump());
    }
    return Status::Ok();
  });
}

}  // namespace alexnet::data
