// Section 4.3's RAII wrappers: MappedFile round-trips a file, reports errors naming the path,
// handles empty files and moves; UniqueFd and UniqueFile release exactly once.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>

#include "gnm/core/error.hpp"
#include "gnm/core/file.hpp"
#include "raii.hpp"

namespace {

std::filesystem::path temp_path(const char* name) {
  return std::filesystem::temp_directory_path() /
         (std::string("gnm_ch04_test_") + std::to_string(::getpid()) + "_" + name);
}

TEST(Ch04Raii, MappedFileReadsBackWhatWasWritten) {
  const auto path = temp_path("floats.bin");
  const float values[5] = {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f};
  {
    const ch04::UniqueFile f = ch04::open_file(path, "wb");
    ASSERT_EQ(std::fwrite(values, sizeof(float), 5, f.get()), 5u);
  }
  const ch04::MappedFile map = ch04::MappedFile::open(path);
  const auto floats = map.as_floats();
  ASSERT_EQ(floats.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(floats[i], values[i]);
  std::filesystem::remove(path);
  EXPECT_EQ(map.as_floats()[2], 3.25f) << "the mapping outlives the file's name";
}

TEST(Ch04Raii, EmptyFilesAndBadSizes) {
  const auto empty = temp_path("empty.bin");
  gnm::write_file_atomic(empty, "");
  EXPECT_TRUE(ch04::MappedFile::open(empty).bytes().empty());
  const auto odd = temp_path("odd.bin");
  gnm::write_file_atomic(odd, "1234567");  // 7 bytes: not whole floats
  const auto map = ch04::MappedFile::open(odd);
  EXPECT_EQ(map.bytes().size(), 7u);
  EXPECT_THROW((void)map.as_floats(), gnm::Error);
  std::filesystem::remove(empty);
  std::filesystem::remove(odd);
}

TEST(Ch04Raii, ErrorsNameThePath) {
  const auto missing = temp_path("does_not_exist.bin");
  try {
    (void)ch04::MappedFile::open(missing);
    FAIL() << "expected gnm::IoError";
  } catch (const gnm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ch04::open_file(missing.parent_path() / "no_dir_here" / "x", "wb"), gnm::IoError);
}

TEST(Ch04Raii, MovesTransferOwnership) {
  ch04::MappedFile a = ch04::MappedFile::open("/proc/self/exe");
  const auto size = a.bytes().size();
  ASSERT_GT(size, 0u);
  ch04::MappedFile b = std::move(a);
  EXPECT_TRUE(a.bytes().empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.bytes().size(), size);
  a = std::move(b);
  EXPECT_EQ(a.bytes().size(), size);

  ch04::UniqueFd fd(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  const int raw = fd.get();
  ASSERT_GE(raw, 0);
  ch04::UniqueFd other = std::move(fd);
  EXPECT_EQ(fd.get(), -1);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(other.get(), raw);
  other.reset();
  EXPECT_EQ(other.get(), -1);
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1) << "the descriptor is closed";
}

}  // namespace
