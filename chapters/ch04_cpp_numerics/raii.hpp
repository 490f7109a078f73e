// Section 4.3: unsafe code kept local. Every raw handle of this chapter (a file descriptor, an
// mmap'd address, a FILE*) lives inside one of these small RAII types, and only raii.cpp calls
// open/close/mmap/munmap/fopen/fclose or casts bytes to floats. Everything above them handles
// values that cannot leak, dangle or be released twice.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <utility>

namespace ch04 {

//! [unique_fd]
/// An open POSIX file descriptor, closed exactly once (Rust: std::os::fd::OwnedFd).
class UniqueFd {
 public:
  UniqueFd() = default;
  /// Takes ownership of `fd` (−1: none).
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { reset(); }

  /// The descriptor, still owned by this object (−1 when none).
  int get() const noexcept { return fd_; }
  /// Closes the descriptor now (no-op when none).
  void reset() noexcept;

 private:
  int fd_ = -1;
};
//! [unique_fd]

/// A read-only memory map of a whole file (Rust: memmap2::Mmap). Move-only; a moved-from or
/// empty map has no bytes.
class MappedFile {
 public:
  MappedFile() = default;
  /// Maps `path`; gnm::IoError naming the path and the system's reason when it cannot be opened,
  /// inspected or mapped. An empty file gives an empty map (mmap cannot map 0 bytes).
  static MappedFile open(const std::filesystem::path& path);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  ~MappedFile();

  /// The file's bytes: valid while this object lives (a borrow of the mapping).
  std::span<const std::byte> bytes() const noexcept;
  /// The bytes read as floats (native byte order); gnm::Error naming the size unless it is a
  /// multiple of 4. The mapping starts on a page, so the floats are aligned.
  std::span<const float> as_floats() const;

 private:
  MappedFile(void* address, std::size_t size) noexcept : address_(address), size_(size) {}
  void* address_ = nullptr;
  std::size_t size_ = 0;
};

/// Closes a C stream: the deleter that makes std::unique_ptr own a FILE*.
struct FileCloser {
  /// fclose(f); a null f is never passed by std::unique_ptr.
  void operator()(std::FILE* f) const noexcept;
};
/// A C stdio stream closed exactly once (Rust: std::fs::File).
using UniqueFile = std::unique_ptr<std::FILE, FileCloser>;

/// fopen(path, mode) as a UniqueFile; gnm::IoError naming the path and the reason on failure.
UniqueFile open_file(const std::filesystem::path& path, const char* mode);

}  // namespace ch04
