// Parsing cuobjdump listings (see sass.hpp).
#include "sass.hpp"

#include "tools.hpp"

namespace chapter07 {
namespace {

// Strips a "/* ... */" comment that starts the line (the offset) and returns its inside, or "".
std::string take_offset(std::string& line) {
  if (line.rfind("/*", 0) != 0) return {};
  const auto end = line.find("*/");
  if (end == std::string::npos) return {};
  std::string inside = line.substr(2, end - 2);
  line = trim(line.substr(end + 2));
  return inside;
}

bool is_hex(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!digit) return false;
  }
  return true;
}

}  // namespace

std::map<std::string, std::vector<SassInstruction>> parse_sass(std::string_view listing) {
  std::map<std::string, std::vector<SassInstruction>> out;
  std::vector<SassInstruction>* current = nullptr;
  for (const auto& raw : split_lines(listing)) {
    std::string line = trim(raw);
    const auto fn = line.find("Function : ");
    if (fn == 0) {
      const std::string name = trim(line.substr(fn + 11));
      // A name seen before (another ELF image) is skipped: keep the first listing.
      const auto [it, inserted] = out.try_emplace(name);
      current = inserted ? &it->second : nullptr;
      continue;
    }
    if (current == nullptr) continue;
    std::string offset = take_offset(line);
    if (!is_hex(offset)) continue;  // headers, .headerflags, continuation lines of encodings
    // Drop the trailing encoding comment and the ';'.
    if (const auto enc = line.find("/*"); enc != std::string::npos)
      line = trim(line.substr(0, enc));
    if (!line.empty() && line.back() == ';') line = trim(line.substr(0, line.size() - 1));
    if (line.empty()) continue;
    SassInstruction ins;
    ins.offset = offset;
    ins.text = line;
    std::string rest = line;
    if (rest[0] == '@') {
      const auto sp = rest.find(' ');
      ins.predicate = rest.substr(0, sp);
      rest = sp == std::string::npos ? std::string() : trim(rest.substr(sp + 1));
    }
    ins.opcode = rest.substr(0, rest.find(' '));
    current->push_back(std::move(ins));
  }
  return out;
}

int count_opcode(const std::vector<SassInstruction>& code, std::string_view prefix) {
  int n = 0;
  for (const auto& ins : code) {
    const std::string_view op = ins.opcode;
    // A whole opcode, or a prefix followed by a modifier: "LDG.E" matches "LDG.E.CONSTANT" but
    // not "LDG.EL".
    if (op == prefix || (op.size() > prefix.size() && op.substr(0, prefix.size()) == prefix &&
                         (prefix.back() == '.' || op[prefix.size()] == '.'))) {
      ++n;
    }
  }
  return n;
}

std::string ptx_function(std::string_view ptx, std::string_view name) {
  std::size_t start = std::string_view::npos;
  for (const std::string_view kind : {".entry ", ".func "}) {
    std::size_t pos = 0;
    while ((pos = ptx.find(kind, pos)) != std::string_view::npos) {
      const std::size_t at = pos + kind.size();
      const std::string_view after = ptx.substr(at);
      // The name must be followed by '(' or white space, not be the prefix of a longer name.
      if (after.substr(0, name.size()) == name && after.size() > name.size() &&
          (after[name.size()] == '(' || after[name.size()] == ' ' || after[name.size()] == '\n' ||
           after[name.size()] == '\r')) {
        start = pos;
        break;
      }
      pos = at;
    }
    if (start != std::string_view::npos) break;
  }
  if (start == std::string_view::npos) return {};
  std::size_t end = ptx.size();
  for (const std::string_view kind : {".entry ", ".func "}) {
    const auto next = ptx.find(kind, start + 1);
    if (next != std::string_view::npos && next < end) end = next;
  }
  return std::string(ptx.substr(start, end - start));
}

int count_occurrences(std::string_view text, std::string_view needle) {
  if (needle.empty()) return 0;
  int n = 0;
  for (std::size_t pos = text.find(needle); pos != std::string_view::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

}  // namespace chapter07
