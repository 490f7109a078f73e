/// \file
/// The engine's one error family.
///
/// Every failure the engine can report is a gnm::Error (or one of its typed children), thrown with
/// the context a reader needs to fix it: what was checked, the values involved and file:line.
/// Tests use EXPECT_THROW(expr, gnm::ShapeError) to prove that bad input is rejected.
#pragma once

#include <stdexcept>
#include <string>

/// The engine: everything a chapter builds lives here (see the book's index for the layers).
namespace gnm {

/// Base of every exception the engine throws.
///
/// `what()` is the full message: the description, then `[name = value ...]` context, then
/// ` (at file:line)` when the throw site is known.
class Error : public std::runtime_error {
 public:
  /// Creates an error with a complete message.
  explicit Error(const std::string& message);
  /// Creates an error whose message ends with the throw site.
  Error(const std::string& message, const char* file, int line);

  /// The source file that threw, or an empty string when unknown.
  const std::string& file() const noexcept { return file_; }
  /// The line in file() that threw, or 0 when unknown.
  int line() const noexcept { return line_; }

 private:
  std::string file_;
  int line_ = 0;
};

/// Shapes, sizes or strides that do not fit together (the message names both shapes).
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// A file that cannot be opened, read, written, or whose contents are corrupt.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A CUDA runtime call or kernel launch that failed; code() is the cudaError_t value.
class CudaError : public Error {
 public:
  /// `code` is the numeric cudaError_t, `message` the formatted description.
  CudaError(int code, const std::string& message, const char* file, int line);
  /// The cudaError_t value as an int (35 = no driver, 100 = no device, 2 = out of memory).
  int code() const noexcept { return code_; }

 private:
  int code_ = 0;
};

/// A feature that is not available in this build or on this machine, or an exercise stub
/// that has not been written yet (see GNM_TODO).
class NotImplemented : public Error {
 public:
  using Error::Error;
};

}  // namespace gnm
