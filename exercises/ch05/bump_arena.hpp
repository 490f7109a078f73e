// Exercise 5.4 — a bump allocator with alignment (section 5.3 of the book).
//
// Write, in exercises/ch05/bump_arena.cpp:
//   5.4  BumpArena::allocate(): align the address, check the room, bump the offset
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch05/exercise/BumpArena
//
// gnm::Arena (common/include/gnm/core/arena.hpp) is the engine's full version: a list of blocks,
// markers, destructors. This one has a single fixed buffer.
#pragma once

#include <cstddef>
#include <memory>

namespace gnm::ch05 {

/// A monotonic allocator over one fixed buffer: allocate() hands out the next aligned piece and
/// moves an offset forward; nothing is freed one by one; reset() frees everything at once.
class BumpArena {
 public:
  /// Given. An arena over a new buffer of `capacity_bytes` (may be 0). The buffer comes from
  /// operator new[], so its start is only 16-byte aligned: alignment must be computed on
  /// addresses, not on offsets.
  explicit BumpArena(std::size_t capacity_bytes);

  /// Ex 5.4. `bytes` of memory whose address is a multiple of `align`, or nullptr when the rest
  /// of the buffer cannot hold them (then nothing changes). `align` must be a power of two:
  /// anything else throws gnm::Error naming it. The returned piece starts at the first address at
  /// or after base + used() that is a multiple of `align`; used() then becomes its end offset
  /// (padding included). Zero bytes give an aligned pointer and take only the padding. Huge
  /// requests (up to SIZE_MAX) must give nullptr, never wrap around.
  void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t));

  /// Given. Frees everything: the next allocate() starts again at the beginning.
  void reset() noexcept { used_ = 0; }
  /// Given. Bytes from the start of the buffer to the end of the last piece handed out.
  std::size_t used() const noexcept { return used_; }
  /// Given. Size of the buffer.
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::unique_ptr<std::byte[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
};

}  // namespace gnm::ch05
