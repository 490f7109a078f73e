/// \file
/// A move-only host array aligned for SIMD loads and cache lines.
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <type_traits>

#include "gnm/core/owned_array.hpp"

namespace gnm {

/// Alignment used by default: one cache line, which also satisfies AVX2 and AVX-512 loads.
inline constexpr std::size_t kDefaultAlignment = 64;

/// Host memory from aligned operator new (std::bad_alloc when the system has none).
template <std::size_t Alignment>
struct AlignedHostAllocator {
  /// Allocates `bytes` aligned to `Alignment`.
  static void* allocate(std::size_t bytes) { return ::operator new(bytes, std::align_val_t{Alignment}); }
  /// Frees memory from allocate().
  static void release(void* p) noexcept { ::operator delete(p, std::align_val_t{Alignment}); }
};

/// `count` trivially-copyable elements in host memory aligned to `Alignment` bytes.
///
/// Elements are left uninitialised (like cudaMalloc); fill them before reading. Move-only.
template <class T, std::size_t Alignment = kDefaultAlignment>
class AlignedBuffer : public OwnedArray<T, AlignedHostAllocator<Alignment>> {
  static_assert(std::is_trivially_copyable_v<T>, "AlignedBuffer holds plain numeric data");
  static_assert(Alignment >= alignof(T) && (Alignment & (Alignment - 1)) == 0,
                "alignment must be a power of two no smaller than alignof(T)");
  using Base = OwnedArray<T, AlignedHostAllocator<Alignment>>;

 public:
  using Base::Base;

  /// Element `i` (unchecked, like std::vector::operator[]).
  T& operator[](std::size_t i) noexcept { return this->data()[i]; }
  /// Element `i` (unchecked).
  const T& operator[](std::size_t i) const noexcept { return this->data()[i]; }
  /// The elements as a span.
  std::span<T> span() noexcept { return {this->data(), this->size()}; }
  /// The elements as a read-only span.
  std::span<const T> span() const noexcept { return {this->data(), this->size()}; }
  /// Iterator to the first element.
  T* begin() noexcept { return this->data(); }
  /// Iterator past the last element.
  T* end() noexcept { return this->data() + this->size(); }
};

}  // namespace gnm
