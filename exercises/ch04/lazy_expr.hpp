// Exercise 4.4 — an expression-template node and the loop that evaluates it (section 4.5).
//
// d = a·x + b·y + c three ways, on the same data:
//   hand   one loop written out: reads x and y once, writes d once (given)
//   naive  operator overloading in the obvious style: every operator returns a new vector, so the
//          expression makes four temporaries and four passes over memory (given)
//   lazy   expression templates: the operators build a small tree of types, and assigning the tree
//          to d runs one loop that evaluates the whole expression per element, like the hand loop
//
// Write, in exercises/ch04/lazy_expr.cpp:
//   4.4  Binary<Op, L, R>::operator[]  (one element of a binary node) and assign() (the loop)
// Then: cmake --build build && ctest --test-dir build -L exercise -R ch04
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "gnm/core/aligned_buffer.hpp"

namespace gnm::ch04 {

/// A vector in the naive style: it owns its elements, and each arithmetic operator below returns
/// a new NaiveVec (given). Move-only, like every owning type of this chapter.
class NaiveVec {
 public:
  /// An empty vector.
  NaiveVec() = default;
  /// A copy of `values` (one allocation).
  explicit NaiveVec(std::span<const float> values);
  /// `n` uninitialised elements (one allocation when n > 0): the result of an operator.
  static NaiveVec uninitialized(std::size_t n);

  /// Number of elements.
  std::size_t size() const noexcept { return data_.size(); }
  /// Element i (unchecked).
  float operator[](std::size_t i) const noexcept { return data_[i]; }
  /// Element i (unchecked).
  float& operator[](std::size_t i) noexcept { return data_[i]; }
  /// The elements.
  std::span<const float> span() const noexcept { return data_.span(); }

  /// Heap allocations made by NaiveVec since the program started (tests and the chapter's table
  /// count the temporaries with it).
  static std::int64_t allocations() noexcept;

 private:
  AlignedBuffer<float> data_;
};

/// a · x, a new vector (given).
NaiveVec operator*(float a, const NaiveVec& x);
/// x + y, a new vector; gnm::ShapeError naming both sizes when they differ (given).
NaiveVec operator+(const NaiveVec& x, const NaiveVec& y);
/// x + c for every element, a new vector (given).
NaiveVec operator+(const NaiveVec& x, float c);

/// d[i] = a·x[i] + b·y[i] + c in one hand-written loop (given). gnm::ShapeError naming the sizes
/// unless x, y and d have the same length.
void axpbyc_hand(float a, std::span<const float> x, float b, std::span<const float> y, float c,
                 std::span<float> d);

/// a·x + b·y + c through NaiveVec's operators (given): four temporaries, the last one returned.
NaiveVec axpbyc_naive(float a, const NaiveVec& x, float b, const NaiveVec& y, float c);

/// Ex 4.4 (used here). d = a·x + b·y + c through expression templates: `a * X + b * Y + c` builds
/// the type Binary<Add, Binary<Add, Binary<Mul, Scalar, Leaf>, Binary<Mul, Scalar, Leaf>>, Scalar>
/// and assign(d, …) evaluates it in one loop with no temporary vector. gnm::ShapeError naming
/// the sizes unless x, y and d have the same length.
///
/// In lazy_expr.cpp, write
/// - `Binary<Op, L, R>::operator[](i)`: element i of the node, Op::apply(left[i], right[i]), and
/// - `assign(out, e)`: the loop out[i] = e[i] over every index (the sizes are checked before it).
void axpbyc_lazy(float a, std::span<const float> x, float b, std::span<const float> y, float c,
                 std::span<float> d);

/// Ex 4.4 (used here). out = a·x + y, lazily (same rules as axpbyc_lazy()).
void axpy_lazy(float a, std::span<const float> x, std::span<const float> y, std::span<float> out);

/// Ex 4.4 (used here). out = (x + y) · (x − y) element-wise, lazily: a tree of depth two whose
/// leaves are each read twice per element, still in one loop.
void diff_of_squares_lazy(std::span<const float> x, std::span<const float> y,
                          std::span<float> out);

}  // namespace gnm::ch04
