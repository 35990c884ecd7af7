// One table per enum: each value with the one name it has on the command line, in config.json
// and on the terminal. Everything that turns an enum into text or back reads its table, so a
// name is written once (layers.h, config.h, experiment.h hold the tables).
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace alexnet {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

template <typename E, std::size_t N>
using EnumNames = std::array<EnumName<E>, N>;

// The name of `value`; "?" when the table lacks it.
template <typename E, std::size_t N>
const char* NameIn(const EnumNames<E, N>& table, E value) {
  for (const EnumName<E>& e : table) {
    if (e.value == value) return e.name;
  }
  return "?";
}

// The value named `name`, or nothing.
template <typename E, std::size_t N>
std::optional<E> ValueIn(const EnumNames<E, N>& table, const std::string& name) {
  for (const EnumName<E>& e : table) {
    if (name == e.name) return e.value;
  }
  return std::nullopt;
}

// name -> value, as CLI11's CheckedTransformer takes it.
template <typename E, std::size_t N>
std::map<std::string, E> NameMap(const EnumNames<E, N>& table) {
  std::map<std::string, E> m;
  for (const EnumName<E>& e : table) m.emplace(e.name, e.value);
  return m;
}

// "{a,b,c}" in the table's order, as a flag's type name.
template <typename E, std::size_t N>
std::string Choices(const EnumNames<E, N>& table) {
  std::string s = "{";
  for (const EnumName<E>& e : table) s += std::string(s.size() > 1 ? "," : "") + e.name;
  return s + "}";
}

}  // namespace alexnet

// to_json / from_json of enum E through its table, for nlohmann::json (declare in E's namespace).
// A name the table lacks, or a value that is not a string, reads as the table's first entry, as
// NLOHMANN_JSON_SERIALIZE_ENUM does.
#define ALEXNET_JSON_ENUM(E, table)                                                            \
  inline void to_json(nlohmann::json& j, const E& e) { j = ::alexnet::NameIn(table, e); }    \
  inline void from_json(const nlohmann::json& j, E& e) {                                      \
    const auto v = j.is_string() ? ::alexnet::ValueIn(table, j.get<std::string>()) : std::nullopt; \
    e = v.value_or(table[0].value);                                                           \
  }
