/// \file
/// Printed tables that are also the JSON tables of a results file. Each section of a chapter
/// program fills ReportTables, prints them, and hands their JSON members (through a
/// SectionResult) to gnm::ProgramReport, from which scripts/gen_book_results.py makes the book's
/// tables: what the reader sees on the terminal and in the book come from the same cells.
///
/// \code
/// using namespace gnm::cells;
/// gnm::ReportTable t("10.1 training", {"epoch", "loss", "test acc"});
/// t.add({integer(1), num(0.512), num(84.3)});
/// gnm::SectionResult s;
/// s.add(t);  // prints it and keeps its JSON
/// \endcode
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace gnm {

/// One cell: how it prints and how it is written to JSON.
struct ReportCell {
  std::string text;  ///< Printed form.
  std::string json;  ///< JSON value (a number, a quoted string, true/false or null).
};

/// Makers of ReportCells (`using namespace gnm::cells;` where tables are filled).
namespace cells {
ReportCell str(const std::string& s);           ///< A string.
ReportCell num(double v, int significant = 3);  ///< A number, printed %.{significant}g; non-finite → "-"/null.
ReportCell sci(double v);                       ///< A number, printed as 1.23e-07.
ReportCell integer(std::int64_t v);             ///< An integer.
ReportCell flag(bool v);                        ///< A check: yes / NO (JSON true / false).
ReportCell yes_no(bool v);                      ///< A property, not a check: "yes" / "no".
}  // namespace cells

/// A titled table of rows with fixed columns.
class ReportTable {
 public:
  /// A table called `title` (also its JSON key) with these column names.
  ReportTable(std::string title, std::vector<std::string> columns);
  /// Appends a row (gnm::Error naming the table unless it has one cell per column).
  void add(std::vector<ReportCell> row);
  /// The number of rows.
  std::size_t rows() const noexcept { return rows_.size(); }
  /// Prints the title and the rows with aligned columns (UTF-8 aware).
  void print(std::FILE* out = stdout) const;
  /// `"<title>": {"rows": [{"column": value, ...}, ...]}` — one member of the results' "tables".
  std::string json_member() const;

 private:
  std::string title_;
  std::vector<std::string> columns_;
  std::vector<std::vector<ReportCell>> rows_;
};

/// A section's outcome: did every check hold, and its tables as JSON object members.
struct SectionResult {
  bool verified = true;  ///< Every check held.
  std::string json;      ///< `"N.x …": {...}, …`, spliced into the results' "tables".
  std::vector<std::pair<std::string, double>> figures;  ///< Headline numbers ("figures").
  /// Prints `t` to stdout and appends its JSON member.
  void add(const ReportTable& t);
};

}  // namespace gnm
