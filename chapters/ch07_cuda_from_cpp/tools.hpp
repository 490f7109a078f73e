// Running the toolchain's command-line tools from the chapter program: cuobjdump (7.5), clang,
// llvm-spirv and spirv-val (7.4). Each tool is found the same way: an environment variable, the
// path CMake found at configure time, then PATH, then the CUDA toolkit's bin directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chapter07 {

/// What a finished command printed and how it ended.
struct ToolRun {
  int exit_code = -1;     ///< The exit status; -1 when it could not start or was killed.
  std::string output;     ///< stdout and stderr together, in the order written.
  double elapsed_ms = 0;  ///< Wall time from start to exit.
};

/// Runs `argv` (argv[0] a path; no shell, so no quoting issues) and waits for it. Never throws
/// for a failing command: the exit code says so; gnm::Error when it cannot be started at all.
ToolRun run_tool(const std::vector<std::string>& argv);

/// Where a tool is: `$<env_var>` when set and non-empty (taken as given), else `configured` (the
/// path CMake found; empty when it found none) when it exists, else `name` on PATH, else
/// /usr/local/cuda/bin/<name>; std::nullopt when none exists.
std::optional<std::filesystem::path> find_tool(std::string_view name, std::string_view env_var,
                                               std::string_view configured);

/// A fresh, empty directory under the system's temporary directory, removed with everything in it
/// when this object goes away.
class TempDir {
 public:
  /// Creates <tmp>/gnm-<tag>-XXXXXX; gnm::IoError when it cannot.
  explicit TempDir(std::string_view tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// The directory.
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// The lines of `text` (without their newlines).
std::vector<std::string> split_lines(std::string_view text);

/// `text` without leading and trailing blanks.
std::string trim(std::string_view text);

/// The last non-blank line of `text` (a tool's error or its version line), "" when none.
std::string last_line(std::string_view text);

}  // namespace chapter07
