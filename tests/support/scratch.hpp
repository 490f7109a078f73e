// Files for tests: a fresh scratch directory per test, raw byte writes, and the committed
// fixtures (tests/fixtures, passed in as GNM_FIXTURES_DIR by tests/CMakeLists.txt).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace gnm::testing {

// <tmp>/gnm_test_<tag>_<pid>_<test name>, emptied; created unless `create` is false (for tests
// that check that the code under test creates directories itself).
inline std::filesystem::path scratch_dir(const std::string& tag, bool create = true) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("gnm_test_" + tag + "_" + std::to_string(::getpid()) + "_" + info->name());
  std::filesystem::remove_all(dir);
  if (create) std::filesystem::create_directories(dir);
  return dir;
}

// Writes `bytes` to `path` as they are (for hand-made corrupt files).
inline void write_raw(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A committed fixture: tests/fixtures/<relative>.
inline std::filesystem::path fixture_path(const std::string& relative) {
  return std::filesystem::path(GNM_FIXTURES_DIR) / relative;
}

}  // namespace gnm::testing
