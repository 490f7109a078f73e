/// \file
/// Minimal JSON text helpers for writing results files (book/results/*.json).
#pragma once

#include <string>
#include <string_view>

namespace gnm {

/// Returns `s` as a quoted JSON string: quotes, backslashes and control characters escaped.
std::string json_quote(std::string_view s);

/// The current time in UTC as ISO 8601, "2026-11-24T07:00:00Z": the "date" of a results file.
std::string utc_timestamp();

/// Formats a double for JSON: finite values with up to 10 significant digits, NaN and Inf as null.
std::string json_number(double v);

}  // namespace gnm
