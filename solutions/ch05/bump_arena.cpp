// Exercise 5.4: bump allocation with alignment (task statement in exercises/ch05/bump_arena.hpp).
#include "bump_arena.hpp"

#include <cstdint>

#include "gnm/core/check.hpp"

namespace gnm::ch05 {

BumpArena::BumpArena(std::size_t capacity_bytes)
    : buffer_(new std::byte[capacity_bytes]), capacity_(capacity_bytes) {}

//! [bump]
void* BumpArena::allocate(std::size_t bytes, std::size_t align) {
  // BEGIN SOLUTION("ex 5.4", "check align is a power of two (GNM_CHECK naming align); round the address base + used_ up to a multiple of align; if the padding or bytes do not fit in the rest, return nullptr (compare against what is left, so nothing overflows); else bump used_ and return the pointer")
  GNM_CHECK(align != 0 && (align & (align - 1)) == 0, "BumpArena: align must be a power of two",
            align);
  const auto base = reinterpret_cast<std::uintptr_t>(buffer_.get());
  const std::uintptr_t here = base + used_;
  // Round up to a multiple of align with a mask: align is a power of two, so align − 1 is all
  // ones below its bit. The buffer's own start is only 16-aligned, hence addresses, not offsets.
  const std::uintptr_t aligned = (here + (align - 1)) & ~static_cast<std::uintptr_t>(align - 1);
  const std::size_t padding = aligned - here;
  const std::size_t left = capacity_ - used_;
  // Two comparisons against what is left instead of `used_ + padding + bytes > capacity_`,
  // which wraps around for bytes near SIZE_MAX and would hand out memory we do not have.
  if (padding > left || bytes > left - padding) return nullptr;
  used_ += padding + bytes;
  return buffer_.get() + (used_ - bytes);
  // END SOLUTION
}
//! [bump]

}  // namespace gnm::ch05
