// Exercise 4.4: expression templates (see exercises/ch04/lazy_expr.hpp), beside the hand-written
// loop and the naive operators they are measured against (chapters/ch04_cpp_numerics, ch04_bench).
#include "lazy_expr.hpp"

#include <atomic>
#include <concepts>
#include <cstring>

#include "gnm/core/check.hpp"

namespace gnm::ch04 {

// ---- the naive style: every operator allocates and fills a new vector ----------------------

namespace {
std::atomic<std::int64_t> g_naive_allocations{0};
}  // namespace

NaiveVec::NaiveVec(std::span<const float> values) : NaiveVec(uninitialized(values.size())) {
  if (!values.empty()) std::memcpy(data_.data(), values.data(), values.size_bytes());
}

NaiveVec NaiveVec::uninitialized(std::size_t n) {
  NaiveVec v;
  v.data_ = AlignedBuffer<float>(n);
  if (n > 0) g_naive_allocations.fetch_add(1, std::memory_order_relaxed);
  return v;
}

std::int64_t NaiveVec::allocations() noexcept {
  return g_naive_allocations.load(std::memory_order_relaxed);
}

//! [naive]
NaiveVec operator*(float a, const NaiveVec& x) {
  NaiveVec out = NaiveVec::uninitialized(x.size());  // a temporary: allocated, written, read once
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = a * x[i];
  return out;
}

NaiveVec operator+(const NaiveVec& x, const NaiveVec& y) {
  GNM_CHECK_SHAPE(x.size() == y.size(), "adding vectors of different lengths", x.size(), y.size());
  NaiveVec out = NaiveVec::uninitialized(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = x[i] + y[i];
  return out;
}
//! [naive]

NaiveVec operator+(const NaiveVec& x, float c) {
  NaiveVec out = NaiveVec::uninitialized(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = x[i] + c;
  return out;
}

NaiveVec axpbyc_naive(float a, const NaiveVec& x, float b, const NaiveVec& y, float c) {
  return a * x + b * y + c;  // (a·x), (b·y), their sum, + c: four allocations, four loops
}

//! [hand]
void axpbyc_hand(float a, std::span<const float> x, float b, std::span<const float> y, float c,
                 std::span<float> d) {
  GNM_CHECK_SHAPE(x.size() == y.size() && y.size() == d.size(), "x, y and d differ in length",
                  x.size(), y.size(), d.size());
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = a * x[i] + b * y[i] + c;
}
//! [hand]

// ---- expression templates --------------------------------------------------------------------

namespace expr {

// Note [Expression templates]: `a * X + b * Y + c` does no arithmetic. Each operator returns a
// node whose *type* records the operation and whose members are its operands; the value is
// computed only when assign() asks for element i, and then the whole tree is evaluated for that
// element in registers. After inlining, the loop in assign() is the hand-written loop.
//
// Nodes hold their operands by value. A node is small (a leaf is a pointer and a length, a scalar
// one float) and copying it is free; holding references instead would leave `auto e = a * X + c;`
// pointing at temporaries that died at the end of the statement: a view outliving its storage
// (section 4.1). The leaves themselves borrow x and y, so an expression must not outlive them.

struct Add {
  static float apply(float l, float r) { return l + r; }
};
struct Sub {
  static float apply(float l, float r) { return l - r; }
};
struct Mul {
  static float apply(float l, float r) { return l * r; }
};

//! [leaf]
/// A borrowed vector (Rust: `&[f32]`).
struct Leaf {
  static constexpr bool kScalar = false;
  std::span<const float> v;
  float operator[](std::size_t i) const { return v[i]; }
  std::size_t size() const { return v.size(); }
};

/// A number broadcast to every index.
struct Scalar {
  static constexpr bool kScalar = true;
  float s;
  float operator[](std::size_t) const { return s; }
  std::size_t size() const { return 0; }  // never asked: Binary looks at kScalar first
};
//! [leaf]

template <class E>
concept Node = requires(const E& e, std::size_t i) {
  { e[i] } -> std::convertible_to<float>;
  { e.size() } -> std::convertible_to<std::size_t>;
  { E::kScalar } -> std::convertible_to<bool>;
};

//! [binary]
/// The node `Op(l, r)`: its type is the expression, its members the operands.
template <class Op, Node L, Node R>
class Binary {
 public:
  static constexpr bool kScalar = L::kScalar && R::kScalar;

  Binary(L l, R r) : l_(l), r_(r) {
    if constexpr (!L::kScalar && !R::kScalar) {
      GNM_CHECK_SHAPE(l_.size() == r_.size(), "operands of different lengths", l_.size(),
                      r_.size());
    }
  }

  /// Element i of the expression.
  float operator[](std::size_t i) const {
    // BEGIN SOLUTION("ex 4.4", "apply the node's operation to element i of both operands: Op::apply(l_[i], r_[i])")
    return Op::apply(l_[i], r_[i]);
    // END SOLUTION
  }

  std::size_t size() const {
    if constexpr (L::kScalar) {
      return r_.size();
    } else {
      return l_.size();
    }
  }

 private:
  L l_;  // by value: see Note [Expression templates]
  R r_;
};
//! [binary]

// Only the vector nodes take part in the operators below, so `float + float` stays untouched.
template <class T>
inline constexpr bool kIsVector = false;
template <>
inline constexpr bool kIsVector<Leaf> = true;
template <class Op, class L, class R>
inline constexpr bool kIsVector<Binary<Op, L, R>> = true;
template <class T>
concept Vector = Node<T> && kIsVector<T>;

//! [operators]
template <Vector L, Vector R>
Binary<Add, L, R> operator+(L l, R r) { return {l, r}; }
template <Vector L, Vector R>
Binary<Sub, L, R> operator-(L l, R r) { return {l, r}; }
template <Vector L, Vector R>
Binary<Mul, L, R> operator*(L l, R r) { return {l, r}; }
template <Vector R>
Binary<Mul, Scalar, R> operator*(float a, R r) { return {Scalar{a}, r}; }
template <Vector L>
Binary<Add, L, Scalar> operator+(L l, float c) { return {l, Scalar{c}}; }
//! [operators]

//! [assign]
/// Evaluates `e` into `out`: the only loop of the whole expression.
template <Vector E>
void assign(std::span<float> out, const E& e) {
  GNM_CHECK_SHAPE(out.size() == e.size(), "the destination and the expression differ in length",
                  out.size(), e.size());
  // BEGIN SOLUTION("ex 4.4", "one loop over i: out[i] = e[i]; the compiler inlines the whole tree into its body")
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = e[i];
  // END SOLUTION
}
//! [assign]

}  // namespace expr

//! [lazy]
void axpbyc_lazy(float a, std::span<const float> x, float b, std::span<const float> y, float c,
                 std::span<float> d) {
  const expr::Leaf X{x}, Y{y};
  expr::assign(d, a * X + b * Y + c);  // one pass: read x, y; write d
}
//! [lazy]

void axpy_lazy(float a, std::span<const float> x, std::span<const float> y, std::span<float> out) {
  const expr::Leaf X{x}, Y{y};
  expr::assign(out, a * X + Y);
}

void diff_of_squares_lazy(std::span<const float> x, std::span<const float> y,
                          std::span<float> out) {
  const expr::Leaf X{x}, Y{y};
  expr::assign(out, (X + Y) * (X - Y));
}

}  // namespace gnm::ch04
