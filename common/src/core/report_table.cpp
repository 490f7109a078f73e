// Printed tables that double as JSON tables (see gnm/core/report_table.hpp).
#include "gnm/core/report_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gnm/core/check.hpp"
#include "gnm/core/json.hpp"

namespace gnm {

namespace {

// %.{digits}g, or %.2e when `scientific`.
std::string format(double v, int digits, bool scientific) {
  char buf[64];
  if (scientific) std::snprintf(buf, sizeof buf, "%.2e", v);
  else std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

// Display width: UTF-8 continuation bytes take no column (×, →, ⊙ in cells and headers).
std::size_t width(const std::string& s) {
  std::size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80 ? 1 : 0;
  return w;
}

}  // namespace

namespace cells {

ReportCell str(const std::string& s) { return {s, gnm::json_quote(s)}; }

ReportCell num(double v, int significant) {
  if (!std::isfinite(v)) return {"-", "null"};
  return {format(v, significant, false), gnm::json_number(v)};
}

ReportCell sci(double v) {
  if (!std::isfinite(v)) return {"-", "null"};
  return {v == 0.0 ? "0" : format(v, 0, true), gnm::json_number(v)};
}

ReportCell integer(std::int64_t v) { return {std::to_string(v), std::to_string(v)}; }

ReportCell flag(bool v) { return {v ? "yes" : "NO", v ? "true" : "false"}; }

ReportCell yes_no(bool v) { return str(v ? "yes" : "no"); }

}  // namespace cells

ReportTable::ReportTable(std::string title, std::vector<std::string> columns)
    : title_(std::move(title)), columns_(std::move(columns)) {}

void ReportTable::add(std::vector<ReportCell> row) {
  GNM_CHECK(row.size() == columns_.size(), "table row has the wrong number of cells", title_,
            row.size(), columns_.size());
  rows_.push_back(std::move(row));
}

void ReportTable::print(std::FILE* out) const {
  std::vector<std::size_t> w(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    w[c] = width(columns_[c]);
    for (const auto& r : rows_) w[c] = std::max(w[c], width(r[c].text));
  }
  std::fprintf(out, "%s\n", title_.c_str());
  auto line = [&](auto&& text_of) {
    std::string s = " ";
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const std::string t = text_of(c);
      s += " " + t + std::string(w[c] - width(t), ' ') + " ";
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    std::fprintf(out, "%s\n", s.c_str());
  };
  line([&](std::size_t c) { return columns_[c]; });
  line([&](std::size_t c) { return std::string(w[c], '-'); });
  for (const auto& r : rows_) line([&](std::size_t c) { return r[c].text; });
  std::fprintf(out, "\n");
}

std::string ReportTable::json_member() const {
  std::string j = gnm::json_quote(title_) + ": {\"rows\": [";
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    j += i ? ", {" : "{";
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      j += (c ? ", " : "") + gnm::json_quote(columns_[c]) + ": " + rows_[i][c].json;
    }
    j += "}";
  }
  return j + "]}";
}

void SectionResult::add(const ReportTable& t) {
  t.print();
  json += (json.empty() ? "" : ", ") + t.json_member();
}

}  // namespace gnm
