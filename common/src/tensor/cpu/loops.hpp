// Internal: the CPU elementwise loop over N strided operands (chapter 9.3's "TensorIterator").
//
// for_each_strided(shape, {strides of operand 0, …}, f) calls
//     f(std::array<int64_t, N> offsets, std::array<int64_t, N> inner_strides, int64_t count)
// on runs of `count` elements along the innermost dimension, where element k of the run is at
// offsets[j] + k·inner_strides[j] for operand j. The caller writes the tight loop (and a branch
// for inner_strides all 1, which the compiler vectorises).
//
// Before iterating, adjacent dimensions that are contiguous for every operand are merged, so a
// row-major tensor becomes one run. Work is split over the default thread pool by linear element
// index once it exceeds kParallelGrain elements; each chunk starts its own odometer.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "gnm/core/thread_pool.hpp"
#include "gnm/tensor/shape.hpp"

namespace gnm::detail {

// Below this many elements an op runs on the calling thread: waking the pool costs ~5–10 µs,
// about the time to stream 32 K floats through one core.
inline constexpr std::int64_t kParallelGrain = 32768;

template <std::size_t N>
struct StridedLayout {
  int ndim = 0;
  std::array<std::int64_t, kMaxDims> sizes{};
  std::array<std::array<std::int64_t, kMaxDims>, N> strides{};
};

//! [coalesce]
template <std::size_t N>
StridedLayout<N> coalesce(std::span<const std::int64_t> shape,
                          const std::array<std::span<const std::int64_t>, N>& strides) {
  StridedLayout<N> L;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // size-1 dims never move any operand
    if (L.ndim > 0) {
      bool mergeable = true;
      for (std::size_t j = 0; j < N; ++j)
        if (L.strides[j][L.ndim - 1] != strides[j][d] * shape[d]) mergeable = false;
      if (mergeable) {
        L.sizes[L.ndim - 1] *= shape[d];
        for (std::size_t j = 0; j < N; ++j) L.strides[j][L.ndim - 1] = strides[j][d];
        continue;
      }
    }
    L.sizes[L.ndim] = shape[d];
    for (std::size_t j = 0; j < N; ++j) L.strides[j][L.ndim] = strides[j][d];
    ++L.ndim;
  }
  if (L.ndim == 0) {  // a scalar or all-ones shape: one element
    L.ndim = 1;
    L.sizes[0] = 1;
    for (std::size_t j = 0; j < N; ++j) L.strides[j][0] = 0;
  }
  return L;
}
//! [coalesce]

template <std::size_t N, class F>
void run_chunk(const StridedLayout<N>& L, std::int64_t begin, std::int64_t end, F& f) {
  const int nd = L.ndim;
  const std::int64_t inner = L.sizes[nd - 1];
  std::array<std::int64_t, kMaxDims> idx{};
  std::int64_t rest = begin;
  for (int d = nd - 1; d >= 0; --d) {
    idx[d] = rest % L.sizes[d];
    rest /= L.sizes[d];
  }
  std::array<std::int64_t, N> off{};
  std::array<std::int64_t, N> inner_stride{};
  for (std::size_t j = 0; j < N; ++j) {
    inner_stride[j] = L.strides[j][nd - 1];
    for (int d = 0; d < nd; ++d) off[j] += idx[d] * L.strides[j][d];
  }
  std::int64_t pos = begin;
  while (pos < end) {
    const std::int64_t count = std::min(inner - idx[nd - 1], end - pos);
    f(off, inner_stride, count);
    pos += count;
    for (std::size_t j = 0; j < N; ++j) off[j] += count * inner_stride[j];
    idx[nd - 1] += count;
    // Carry the odometer into outer dimensions.
    for (int d = nd - 1; d > 0 && idx[d] == L.sizes[d]; --d) {
      idx[d] = 0;
      ++idx[d - 1];
      for (std::size_t j = 0; j < N; ++j)
        off[j] += L.strides[j][d - 1] - L.sizes[d] * L.strides[j][d];
    }
  }
}

//! [for_each_strided]
template <std::size_t N, class F>
void for_each_strided(std::span<const std::int64_t> shape,
                      const std::array<std::span<const std::int64_t>, N>& strides, F f) {
  const std::int64_t n = shape_numel(shape);
  if (n == 0) return;
  const StridedLayout<N> L = coalesce<N>(shape, strides);
  if (n < kParallelGrain) {
    run_chunk<N>(L, 0, n, f);
    return;
  }
  default_thread_pool().parallel_for(0, n, kParallelGrain, [&](std::int64_t lo, std::int64_t hi) {
    F local = f;
    run_chunk<N>(L, lo, hi, local);
  });
}
//! [for_each_strided]

}  // namespace gnm::detail
