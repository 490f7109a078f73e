#include "gnm/core/error.hpp"

#include <string>

#include "gnm/core/check.hpp"

namespace gnm {
namespace {

// Only the file name: full build paths make messages long and differ between machines.
std::string base_name(const char* file) {
  std::string s = file ? file : "";
  const auto slash = s.find_last_of('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

std::string with_site(const std::string& message, const char* file, int line) {
  if (!file || !*file) return message;
  return message + " (at " + base_name(file) + ":" + std::to_string(line) + ")";
}

}  // namespace

Error::Error(const std::string& message) : std::runtime_error(message) {}

Error::Error(const std::string& message, const char* file, int line)
    : std::runtime_error(with_site(message, file, line)), file_(base_name(file)), line_(line) {}

CudaError::CudaError(int code, const std::string& message, const char* file, int line)
    : Error(message, file, line), code_(code) {}

namespace detail {

void todo(const char* exercise, const char* hint, const char* file, int line) {
  throw NotImplemented(std::string(exercise) + " is not written yet: " + hint, file, line);
}

}  // namespace detail
}  // namespace gnm
