// Helpers shared by the chapter 10 exercise tests: seeded random data, the PyTorch fixtures of
// tests/fixtures/ch10 (scripts/fixtures/ch10_optim.py and ch10_exercises.py) and error messages.
#pragma once

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "test_basics.hpp"
#include "scratch.hpp"

namespace ch10_testing {

using gnm::testing::kU;
using gnm::testing::uniform;

/// tests/fixtures/ch10/<name>, parsed.
inline nlohmann::json load_fixture(const std::string& name) {
  std::ifstream in(gnm::testing::fixture_path("ch10/" + name));
  if (!in) throw gnm::IoError("cannot open fixture ch10/" + name);
  return nlohmann::json::parse(in);
}

/// One fp32 value of a fixture: its shortest decimal (exact after strtod and a cast to float),
/// or "inf", "-inf", "nan".
inline float f32(const nlohmann::json& v) {
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<float>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<float>::infinity();
    if (s == "-inf") return -std::numeric_limits<float>::infinity();
    throw gnm::IoError("fixture: not an fp32 value: " + s);
  }
  return static_cast<float>(v.get<double>());
}

/// A fixture array of fp32 values.
inline std::vector<float> floats(const nlohmann::json& array) {
  std::vector<float> out;
  out.reserve(array.size());
  for (const auto& v : array) out.push_back(f32(v));
  return out;
}

/// Bitwise equality that also holds for NaN == NaN and tells −0 from +0.
inline bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) ||
         (a == b && std::signbit(a) == std::signbit(b));
}

using gnm::testing::message_of;

}  // namespace ch10_testing
