/// \file
/// Reading the committed JSON fixtures (tests/fixtures/**/*.json, written by scripts/fixtures/)
/// with nlohmann::json, and the few accessors the fixture tests share. Look values up with
/// `.at(key)` / `.at(index)`: a missing key throws nlohmann's out_of_range naming the key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"

namespace gnm::testing {

/// `text` parsed as JSON. A syntax error is a gnm::IoError naming `what` (the file, say) and
/// nlohmann's message, which gives the byte offset.
inline nlohmann::json parse_json(std::string_view text, std::string_view what = "JSON text") {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw gnm::IoError(std::string(what) + ": " + e.what());
  }
}

/// The JSON file at `path`, parsed (gnm::IoError if it cannot be read or is not JSON).
inline nlohmann::json load_json(const std::filesystem::path& path) {
  return parse_json(gnm::read_file(path), path.string());
}

/// Elements [begin, begin + count) of a JSON array of numbers (fewer where the array ends), each
/// cast to float. The fixtures hold every fp32 value as its shortest decimal, which strtod and a
/// cast to float turn back into the exact fp32 value.
inline std::vector<float> json_floats(const nlohmann::json& array, std::size_t begin = 0,
                                      std::size_t count = SIZE_MAX) {
  std::vector<float> out;
  for (std::size_t i = begin; i < array.size() && out.size() < count; ++i) {
    out.push_back(static_cast<float>(array.at(i).get<double>()));
  }
  return out;
}

/// The number at `doc[key]`, or `fallback` where the fixture leaves the key out.
inline double json_number_or(const nlohmann::json& doc, const char* key, double fallback) {
  return doc.contains(key) ? doc.at(key).get<double>() : fallback;
}

/// The boolean at `doc[key]`, false where the fixture leaves the key out.
inline bool json_flag(const nlohmann::json& doc, const char* key) {
  return doc.contains(key) && doc.at(key).get<bool>();
}

}  // namespace gnm::testing
