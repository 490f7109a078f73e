/// \file
/// The skeleton every chapter program shares: collect each section's verdict and tables, print
/// "FAILED: <section>" for the ones that failed, write the results file (book/results/*.json, read
/// by scripts/gen_book_results.py) atomically, print "Verification: PASSED|FAILED" and return the
/// exit code; plus the `main()` wrapper that turns command-line and runtime errors into messages
/// and exit codes. The engine does not link CLI11: run_cli() takes the parser's types as template
/// parameters, so only the chapter programs that call it see CLI11.
#pragma once

#include <concepts>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gnm {

/// One program run's results: the common header of a results file ("program", "date",
/// "machine" {cpu, cores, gpu}, "backend", "parameters", "figures"), the sections' tables in
/// title order and the overall verdict. Parameters and figures keep the order they were given in.
class ProgramReport {
 public:
  /// `program` is the results file's "program" (the executable's name, e.g. "ch02_linear_algebra").
  explicit ProgramReport(std::string program);

  /// The "backend" text, e.g. "cpu (1 thread)"; "cpu" unless set.
  ProgramReport& backend(std::string text);
  /// The machine's "gpu" name; "none" unless set.
  ProgramReport& gpu(std::string name);

  /// Adds a string parameter (written quoted).
  ProgramReport& parameter(std::string_view name, std::string_view value);
  /// Adds a string parameter (written quoted); keeps a literal from converting to bool.
  ProgramReport& parameter(std::string_view name, const char* value);
  /// Adds a boolean parameter.
  ProgramReport& parameter(std::string_view name, bool value);
  /// Adds an integer parameter.
  ProgramReport& parameter(std::string_view name, long long value);
  /// Adds a floating-point parameter (json_number: NaN and Inf become null).
  ProgramReport& parameter(std::string_view name, double value);
  /// Adds an integer parameter of any other integral type (int, std::int64_t, …).
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  ProgramReport& parameter(std::string_view name, T value) {
    return parameter(name, static_cast<long long>(value));
  }

  /// Adds a number to "figures" (json_number: NaN and Inf become null).
  ProgramReport& figure(std::string_view name, double value);

  /// Adds a section: `table_json` (a JSON value, usually {"rows": [...]}) becomes
  /// "tables"[title]. A title given twice replaces the earlier section.
  void add_section(const std::string& title, bool verified, std::string table_json);
  /// Adds a section whose tables are already object members, `"a": {...}, "b": {...}`: they are
  /// spliced into "tables" as they are. `title` names the section in "FAILED:" lines and orders
  /// it among the others.
  void add_section_members(const std::string& title, bool verified, std::string members_json);

  /// True when every section added so far verified (and when there is none).
  [[nodiscard]] bool verified() const;
  /// The results file's text: date and machine are read now (utc_timestamp, host_info).
  [[nodiscard]] std::string to_json() const;

  /// Ends the program: prints "FAILED: <title>" for every failed section, writes to_json() to
  /// `json_path` with write_file_atomic unless the path is empty and says so ("results written
  /// to …"), prints "Verification: PASSED|FAILED" — all to `out` — and returns the exit code,
  /// 0 when verified and 1 otherwise. Throws IoError when the file cannot be written.
  [[nodiscard]] int finish(const std::filesystem::path& json_path, std::FILE* out = stdout) const;

 private:
  struct Section {
    bool verified = true;
    std::string members;  // `"title": value` or the spliced members
  };
  std::string program_;
  std::string backend_ = "cpu";
  std::string gpu_ = "none";
  std::vector<std::pair<std::string, std::string>> parameters_;  // name, JSON value
  std::vector<std::pair<std::string, std::string>> figures_;     // name, JSON value
  std::map<std::string, Section> sections_;                      // by title: printed in order
};

/// Checks a command-line choice: returns when `value` is one of `choices`, otherwise throws
/// gnm::Error "<option> must be one of a, b, c; got '<value>'" (the chapter programs' --section).
void require_choice(std::string_view option, const std::string& value,
                    const std::vector<std::string>& choices);

/// Runs `body` and returns its exit code; an exception escaping it is printed to stderr as
/// "error: <what>" and gives exit code 2 (the code the chapter programs' CLI tests expect).
int guarded_main(const std::function<int()>& body);

/// A chapter program's whole main(): parses the command line with `app` (a CLI::App; the
/// parser's error type `ParseError` is CLI::ParseError), answering --help or a bad option
/// through `app.exit(e)`, then runs `body` under guarded_main(). Usage:
/// `return gnm::run_cli<CLI::ParseError>(app, argc, argv, [&] { return run(opt); });`
template <class ParseError, class App, class Body>
int run_cli(App& app, int argc, char** argv, Body&& body) {
  try {
    app.parse(argc, argv);
  } catch (const ParseError& e) {
    return app.exit(e);
  }
  return guarded_main(std::function<int()>(std::forward<Body>(body)));
}

}  // namespace gnm
