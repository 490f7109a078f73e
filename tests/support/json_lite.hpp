// A tiny JSON reader for the chapter-3 fixtures (tests/fixtures/ch03/*.json): objects, arrays,
// numbers, strings without escapes beyond \" and \\, true, false, null. Enough for files that a
// script of ours wrote; anything else is a gnm::IoError naming the offset.
#pragma once

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gnm/core/error.hpp"

namespace ch03_test {

struct Json {
  enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
  bool b = false;
  double number = 0.0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json, std::less<>> object;

  const Json& operator[](std::string_view key) const {
    const auto it = object.find(key);
    if (kind != Kind::object || it == object.end()) {
      throw gnm::IoError("fixture: no key '" + std::string(key) + "'");
    }
    return it->second;
  }
  const Json& operator[](std::size_t i) const {
    if (kind != Kind::array || i >= array.size()) {
      throw gnm::IoError("fixture: no element " + std::to_string(i));
    }
    return array[i];
  }
  bool has(std::string_view key) const { return kind == Kind::object && object.count(key) != 0; }
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}
  Json parse() {
    Json v = value();
    skip();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw gnm::IoError(std::string("fixture JSON: ") + what + " at offset " + std::to_string(i_));
  }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail("unexpected character");
  }
  std::string str() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') ++i_;  // \" and \\ only: our files hold no other escapes
      if (i_ < s_.size()) out += s_[i_++];
    }
    expect('"');
    return out;
  }
  Json value() {
    skip();
    if (i_ >= s_.size()) fail("unexpected end");
    Json v;
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      v.kind = Json::Kind::object;
      if (eat('}')) return v;
      do {
        std::string key = str();
        expect(':');
        v.object.emplace(std::move(key), value());
      } while (eat(','));
      expect('}');
    } else if (c == '[') {
      ++i_;
      v.kind = Json::Kind::array;
      if (eat(']')) return v;
      do v.array.push_back(value());
      while (eat(','));
      expect(']');
    } else if (c == '"') {
      v.kind = Json::Kind::string;
      v.string = str();
    } else if (s_.substr(i_, 4) == "true" || s_.substr(i_, 5) == "false") {
      v.kind = Json::Kind::boolean;
      v.b = s_[i_] == 't';
      i_ += v.b ? 4 : 5;
    } else if (s_.substr(i_, 4) == "null") {
      i_ += 4;
    } else {
      // strtod reads the shortest round-trip decimals Python writes back to the same double.
      const std::string rest(s_.substr(i_, 40));
      char* end = nullptr;
      v.kind = Json::Kind::number;
      v.number = std::strtod(rest.c_str(), &end);
      if (end == rest.c_str()) fail("not a value");
      i_ += static_cast<std::size_t>(end - rest.c_str());
    }
    return v;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace ch03_test
