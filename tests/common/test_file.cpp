#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "scratch.hpp"

namespace fs = std::filesystem;

namespace {
fs::path scratch_dir() { return gnm::testing::scratch_dir("file", /*create=*/false); }
}  // namespace

TEST(File, AtomicWriteCreatesDirectoriesAndReplacesWholeFiles) {
  const fs::path dir = scratch_dir();
  const fs::path f = dir / "a" / "b" / "results.json";
  gnm::write_file_atomic(f, "first version, longer than the second");
  EXPECT_EQ(gnm::read_file(f), "first version, longer than the second");
  gnm::write_file_atomic(f, "second");
  EXPECT_EQ(gnm::read_file(f), "second");
  // No temporary file is left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(f.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);
  gnm::write_file_atomic(f, "");
  EXPECT_EQ(gnm::read_file(f), "");
  fs::remove_all(dir);
}

TEST(File, FailuresAreIoErrorsNamingThePath) {
  const fs::path dir = scratch_dir();
  fs::create_directories(dir);
  try {
    (void)gnm::read_file(dir / "missing.txt");
    FAIL();
  } catch (const gnm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos) << e.what();
  }
  // A path whose parent is a regular file cannot be written.
  gnm::write_file_atomic(dir / "plain", "x");
  EXPECT_THROW(gnm::write_file_atomic(dir / "plain" / "child.txt", "y"), gnm::IoError);
  fs::remove_all(dir);
}
