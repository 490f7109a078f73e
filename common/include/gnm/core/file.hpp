/// \file
/// Writing files so that a crash never leaves a half-written one behind.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace gnm {

/// Writes `contents` to `path` atomically: a temporary file in the same directory is written,
/// flushed to disk (fsync) and renamed over `path`, so readers see the old file or the new one,
/// never a partial one. Creates missing parent directories. Throws IoError naming the path and
/// the system's reason on failure (and removes the temporary file).
void write_file_atomic(const std::filesystem::path& path, std::string_view contents);

/// Reads a whole file; throws IoError naming the path when it cannot be opened or read.
std::string read_file(const std::filesystem::path& path);

}  // namespace gnm
