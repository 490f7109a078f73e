// Section 4.3: the only file of the chapter that touches raw handles (see raii.hpp), and the
// section's demonstration.
#include "raii.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "gnm/core/check.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/json.hpp"
#include "gnm/core/random.hpp"
#include "sections.hpp"

namespace ch04 {
namespace {
[[noreturn]] void throw_io(const std::string& what, const std::filesystem::path& path, int err) {
  throw gnm::IoError(what + " '" + path.string() + "': " + std::strerror(err));
}
}  // namespace

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

//! [mapped_file]
MappedFile MappedFile::open(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_io("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_io("cannot stat", path, errno);
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) return MappedFile();  // mmap rejects a length of 0
  void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (address == MAP_FAILED) throw_io("cannot map", path, errno);
  return MappedFile(address, size);  // the mapping outlives fd, which closes here
}

MappedFile::~MappedFile() {
  if (address_ != nullptr) ::munmap(address_, size_);
}
//! [mapped_file]

MappedFile::MappedFile(MappedFile&& other) noexcept
    : address_(std::exchange(other.address_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (address_ != nullptr) ::munmap(address_, size_);
    address_ = std::exchange(other.address_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

std::span<const std::byte> MappedFile::bytes() const noexcept {
  return {static_cast<const std::byte*>(address_), size_};
}

std::span<const float> MappedFile::as_floats() const {
  GNM_CHECK(size_ % sizeof(float) == 0, "the file's size is not a whole number of floats", size_);
  // The one reinterpretation of bytes as floats: a mapping starts on a page boundary, so the
  // alignment of float holds, and the bytes were written as floats (native order).
  return {reinterpret_cast<const float*>(address_), size_ / sizeof(float)};
}

void FileCloser::operator()(std::FILE* f) const noexcept { std::fclose(f); }

UniqueFile open_file(const std::filesystem::path& path, const char* mode) {
  UniqueFile f(std::fopen(path.c_str(), mode));
  if (!f) throw_io("cannot open", path, errno);
  return f;
}

SectionResult run_raii(const Options& opt) {
  std::printf("== 4.3 Unsafe code kept local ==\n");
  bool ok = true;
  const std::size_t n = opt.quick ? 4096 : (1u << 20);
  std::vector<float> values(n);
  gnm::fill_uniform(values, 7, -1.0f, 1.0f);
  const auto path = std::filesystem::temp_directory_path() /
                    ("gnm_ch04_raii_" + std::to_string(::getpid()) + ".bin");

  //! [raii_use]
  {
    const UniqueFile out = open_file(path, "wb");  // fclose'd at the end of this block
    const std::size_t written = std::fwrite(values.data(), sizeof(float), n, out.get());
    GNM_CHECK(written == n, "short write", written, n);
  }
  const MappedFile map = MappedFile::open(path);  // munmap'd when `map` dies
  const std::span<const float> floats = map.as_floats();  // borrows the mapping
  const float sum_mapped = std::accumulate(floats.begin(), floats.end(), 0.0f);
  //! [raii_use]
  const float sum_memory = std::accumulate(values.begin(), values.end(), 0.0f);
  // Same numbers in the same order: the sums must agree bit for bit.
  const bool same = floats.size() == n && sum_mapped == sum_memory;
  ok = ok && same;
  std::filesystem::remove(path);  // the mapping stays valid: it holds the inode, not the name
  std::printf("  %zu floats written through UniqueFile, read back through MappedFile: sum %s\n",
              n, same ? "identical" : "DIFFERS");

  std::string missing;
  try {
    (void)MappedFile::open(path);  // removed above
  } catch (const gnm::IoError& e) {
    missing = e.what();
  }
  ok = ok && missing.find(path.string()) != std::string::npos;
  std::printf("  opening it again after removal: %s\n", missing.c_str());

  MappedFile moved = MappedFile::open("/proc/self/exe");  // any readable file
  const MappedFile taken = std::move(moved);
  ok = ok && moved.bytes().empty() && !taken.bytes().empty();
  std::printf("  moved-from MappedFile: %zu bytes; its new owner: %zu bytes\n",
              moved.bytes().size(), taken.bytes().size());
  std::printf("  raii: %s\n\n", ok ? "ok" : "FAILED");

  std::ostringstream j;
  j << "{\"rows\": ["
    << "{\"type\": \"UniqueFd\", \"rust\": \"OwnedFd\", \"wraps\": \"int fd\", "
       "\"raw_calls\": \"open, close\"}, "
    << "{\"type\": \"MappedFile\", \"rust\": \"memmap2::Mmap\", \"wraps\": \"void* + size\", "
       "\"raw_calls\": \"fstat, mmap, munmap, reinterpret_cast\"}, "
    << "{\"type\": \"UniqueFile\", \"rust\": \"std::fs::File\", \"wraps\": \"FILE*\", "
       "\"raw_calls\": \"fopen, fclose\"}], "
    << "\"floats\": " << n << ", \"round_trip_identical\": " << (same ? "true" : "false")
    << ", \"verified\": " << (ok ? "true" : "false") << "}";
  return {ok, j.str()};
}

}  // namespace ch04
