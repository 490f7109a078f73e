// Exercise 4.1 — the move constructor and move assignment of a move-only buffer (section 4.1).
//
// Rust moves by default: `let b = a;` hands the buffer to b and the compiler forbids any later use
// of a. In C++ a move is a function you write. It must leave the source in a valid, empty state:
// its destructor still runs, and a moved-from object that still held the pointer would free the
// memory a second time.
//
// Write, in exercises/ch04/move_buffer.cpp:
//   4.1  MoveBuffer(MoveBuffer&&) and MoveBuffer::operator=(MoveBuffer&&)
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch04
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace gnm::ch04 {

/// A move-only owner of `size` floats from `new float[]` (the engine's version is
/// gnm::OwnedArray, which AlignedBuffer and the CUDA buffers build on).
///
/// Note [Moves are noexcept]: real move operations are `noexcept` (gnm::OwnedArray's are), so that
/// std::vector moves its elements when it grows instead of copying them. These two are not, only
/// because the exercise stub throws gnm::NotImplemented, and an exception leaving a `noexcept`
/// function stops the program instead of failing the test.
class MoveBuffer {
 public:
  /// An empty buffer (no memory).
  MoveBuffer() = default;
  /// `size` zero floats (given). A size of 0 allocates nothing.
  explicit MoveBuffer(std::size_t size);

  MoveBuffer(const MoveBuffer&) = delete;             ///< Move-only: no copies.
  MoveBuffer& operator=(const MoveBuffer&) = delete;  ///< Move-only: no copies.

  /// Ex 4.1a. Takes `other`'s memory: afterwards this buffer has other's pointer and size, and
  /// `other` is empty (data() == nullptr, size() == 0), so its destructor frees nothing. No
  /// allocation, no element copied.
  MoveBuffer(MoveBuffer&& other);

  /// Ex 4.1b. Frees this buffer's own memory (if any), then takes `other`'s as the move
  /// constructor does. Moving a buffer into itself (`a = std::move(a)`) must change nothing:
  /// freeing first would leave `a` pointing at freed memory. Returns *this.
  MoveBuffer& operator=(MoveBuffer&& other);

  /// Frees the memory (given).
  ~MoveBuffer();

  /// The first element (nullptr when empty or moved-from).
  float* data() noexcept { return data_; }
  /// Number of elements (0 when empty or moved-from).
  std::size_t size() const noexcept { return size_; }
  /// True when the buffer holds nothing.
  bool empty() const noexcept { return size_ == 0; }
  /// The elements as a span (empty when moved-from).
  std::span<float> span() noexcept { return {data_, size_}; }

  /// Element i, checked (given): gnm::Error naming i and size() when out of range. On a
  /// moved-from buffer every index is out of range, so a use after a move is reported instead of
  /// reading through a null pointer: a check that costs one comparison.
  float& at(std::size_t i);

  /// Buffers allocated and not yet freed, over the whole program (given): tests use it to prove
  /// that moves neither leak nor free twice.
  static std::int64_t live_allocations() noexcept;

 private:
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace gnm::ch04
