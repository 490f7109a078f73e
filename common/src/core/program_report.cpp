#include "gnm/core/program_report.hpp"

#include <exception>
#include <sstream>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "gnm/core/host_info.hpp"
#include "gnm/core/json.hpp"

namespace gnm {

ProgramReport::ProgramReport(std::string program) : program_(std::move(program)) {}

ProgramReport& ProgramReport::backend(std::string text) {
  backend_ = std::move(text);
  return *this;
}

ProgramReport& ProgramReport::gpu(std::string name) {
  gpu_ = std::move(name);
  return *this;
}

ProgramReport& ProgramReport::parameter(std::string_view name, std::string_view value) {
  parameters_.emplace_back(std::string(name), json_quote(value));
  return *this;
}

ProgramReport& ProgramReport::parameter(std::string_view name, const char* value) {
  return parameter(name, std::string_view(value));
}

ProgramReport& ProgramReport::parameter(std::string_view name, bool value) {
  parameters_.emplace_back(std::string(name), value ? "true" : "false");
  return *this;
}

ProgramReport& ProgramReport::parameter(std::string_view name, long long value) {
  parameters_.emplace_back(std::string(name), std::to_string(value));
  return *this;
}

ProgramReport& ProgramReport::parameter(std::string_view name, double value) {
  parameters_.emplace_back(std::string(name), json_number(value));
  return *this;
}

ProgramReport& ProgramReport::figure(std::string_view name, double value) {
  figures_.emplace_back(std::string(name), json_number(value));
  return *this;
}

void ProgramReport::add_section(const std::string& title, bool verified, std::string table_json) {
  sections_[title] = {verified, json_quote(title) + ": " + table_json};
}

void ProgramReport::add_section_members(const std::string& title, bool verified,
                                        std::string members_json) {
  sections_[title] = {verified, std::move(members_json)};
}

bool ProgramReport::verified() const {
  for (const auto& [title, s] : sections_) {
    if (!s.verified) return false;
  }
  return true;
}

namespace {

// {"a": 1, "b": true}: the members in the order given.
std::string object(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string s = "{";
  for (std::size_t i = 0; i < members.size(); ++i) {
    s += (i ? ", " : "") + json_quote(members[i].first) + ": " + members[i].second;
  }
  return s + "}";
}

}  // namespace

std::string ProgramReport::to_json() const {
  const HostInfo host = host_info();
  std::ostringstream j;
  // The layout (one header field a line, one section a line) is what book/results/*.json have
  // always looked like, so a re-run diffs line by line against the committed file.
  j << "{\n  \"program\": " << json_quote(program_) << ",\n  \"date\": "
    << json_quote(utc_timestamp()) << ",\n  \"machine\": {\"cpu\": " << json_quote(host.cpu_model)
    << ", \"cores\": " << host.logical_cores << ", \"gpu\": " << json_quote(gpu_) << "},\n"
    << "  \"backend\": " << json_quote(backend_) << ",\n  \"parameters\": " << object(parameters_)
    << ",\n  \"figures\": " << object(figures_) << ",\n  \"tables\": {";
  bool first = true;
  for (const auto& [title, s] : sections_) {
    j << (first ? "\n    " : ",\n    ") << s.members;
    first = false;
  }
  j << (first ? "" : "\n  ") << "},\n  \"verified\": " << (verified() ? "true" : "false")
    << "\n}\n";
  return j.str();
}

int ProgramReport::finish(const std::filesystem::path& json_path, std::FILE* out) const {
  for (const auto& [title, s] : sections_) {
    if (!s.verified) std::fprintf(out, "FAILED: %s\n", title.c_str());
  }
  const bool ok = verified();
  if (!json_path.empty()) {
    write_file_atomic(json_path, to_json());
    std::fprintf(out, "results written to %s\n", json_path.c_str());
  }
  std::fprintf(out, "Verification: %s\n", ok ? "PASSED" : "FAILED");
  std::fflush(out);
  return ok ? 0 : 1;
}

int guarded_main(const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "error: unknown exception\n");
  }
  return 2;
}

void require_choice(std::string_view option, const std::string& value,
                    const std::vector<std::string>& choices) {
  std::string list;
  for (const std::string& c : choices) {
    if (c == value) return;
    list += (list.empty() ? "" : ", ") + c;
  }
  throw Error(std::string(option) + " must be one of " + list + "; got '" + value + "'");
}

}  // namespace gnm
