// Exercise 9.1 — strided indexing and `contiguous` (section 9.1 of the book).
//
// A tensor is a flat buffer (its Storage) plus a layout: sizes, strides in elements and an offset.
// Element (i0, i1, …) of the tensor lives at storage[offset + i0·stride0 + i1·stride1 + …]. Views
// (transpose, slice, expand, …) change the layout, never the buffer.
//
// Write, in exercises/ch09/strided.cpp:
//   9.1a  element_offset()   the storage index of one multi-index
//   9.1b  contiguous_copy()  the elements of any layout in row-major order: an "odometer" over
//                            the multi-index, one element per step
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch09/exercise/Strided
//
// check_layout() is given: it validates a layout against the size of its buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace gnm::ch09 {

/// Where the elements of a tensor sit in its flat buffer: the three fields of gnm::TensorImpl
/// that views change.
struct Layout {
  std::vector<std::int64_t> shape;    ///< Sizes, outermost first (empty: a 0-d tensor).
  std::vector<std::int64_t> strides;  ///< Elements to step per unit of each index (≥ 0).
  std::int64_t offset = 0;            ///< Storage index of element (0, 0, …).
};

/// Given. Throws gnm::ShapeError unless shape and strides have the same length, every size and
/// stride is ≥ 0 and the offset is ≥ 0; throws gnm::Error (naming the offsets) when a non-empty
/// layout reaches outside a buffer of `storage_size` elements: its largest index is
/// offset + Σ (size_d − 1)·stride_d.
void check_layout(const Layout& layout, std::size_t storage_size);

/// Ex 9.1a. The storage index of element `index` of `layout`:
/// offset + Σ_d index[d] · strides[d].
///
/// Throws gnm::ShapeError when index has the wrong number of entries, and gnm::Error naming the
/// dimension, the index and the size when an entry is outside [0, shape[d]). A 0-d layout takes
/// an empty index and returns the offset.
std::int64_t element_offset(const Layout& layout, std::span<const std::int64_t> index);

/// Ex 9.1b. The elements of `layout` over `storage`, in row-major order (the last index moving
/// fastest): what Tensor::contiguous() returns. Works for any strides — transposed, sliced with a
/// step, broadcast (stride 0) — and for 0-d (one element) and empty (no element) layouts.
///
/// Do not call element_offset() per element (a loop over d per element): keep the multi-index as
/// an odometer and the storage index as a running sum, so each step costs O(1) on average — when
/// index d wraps from shape[d] − 1 back to 0, subtract (shape[d] − 1)·strides[d] and step the
/// next outer index. Validate first with check_layout().
std::vector<float> contiguous_copy(std::span<const float> storage, const Layout& layout);

}  // namespace gnm::ch09
