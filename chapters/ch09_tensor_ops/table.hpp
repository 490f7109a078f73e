// A printed table that is also a JSON table of the results file: each section of the chapter
// program fills Tables, prints them and hands their JSON members to gnm::ProgramReport.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace chapter9 {

/// One cell: how it prints and how it is written to JSON.
struct Cell {
  std::string text;  ///< Printed form.
  std::string json;  ///< JSON value (a number, a quoted string, true/false or null).
};

Cell str(const std::string& s);               ///< A string.
Cell num(double v, int significant = 3);      ///< A number, printed with %.{significant}g.
Cell sci(double v);                           ///< A number, printed as 1.23e-07.
Cell integer(std::int64_t v);                 ///< An integer.
Cell flag(bool v);                            ///< A check: yes / NO (JSON true / false).
Cell yes_no(bool v);                          ///< A property, not a check: "yes" / "no".

/// A titled table of rows with fixed columns.
class Table {
 public:
  Table(std::string title, std::vector<std::string> columns);
  /// Appends a row (gnm::Error unless it has one cell per column).
  void add(std::vector<Cell> row);
  /// Prints the title and the rows with aligned columns.
  void print(std::FILE* out = stdout) const;
  /// `"<title>": {"rows": [{"column": value, ...}, ...]}` — one member of the results' "tables".
  std::string json_member() const;

 private:
  std::string title_;
  std::vector<std::string> columns_;
  std::vector<std::vector<Cell>> rows_;
};

/// A section's outcome: did every check hold, and its tables as JSON object members.
struct Section {
  bool verified = true;  ///< Every check held.
  std::string json;      ///< `"9.x …": {...}, …`, spliced into the results' "tables".
  std::vector<std::pair<std::string, double>> figures;  ///< Headline numbers ("figures").
  /// Prints `t` and appends its JSON member.
  void add(const Table& t);
};

}  // namespace chapter9
