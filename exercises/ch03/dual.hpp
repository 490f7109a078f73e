// Exercise 3.1 — forward-mode automatic differentiation with dual numbers (section 3.1).
//
// Write, in exercises/ch03/dual.cpp, the templates dual_mul, dual_div, dual_exp, dual_log,
// dual_sin and dual_cos. Then:
//   cmake --build build && ctest --test-dir build -L exercise -R ch03/exercise/Ch03Dual
//
// A dual number is a + b·ε with ε² = 0 (ε is not zero; its square is). Evaluate any function on
// x + 1·ε and the ε coefficient of the result is the derivative, exactly (no step size):
//
//     f(x + ε) = f(x) + f'(x)·ε        (Taylor: every term with ε² or higher vanishes)
//
// So each operation only has to carry the pair (value, derivative) through its own rule:
//
//     (a + a'ε)(b + b'ε) = ab + (a'b + ab')ε                 product rule
//     (a + a'ε)/(b + b'ε) = a/b + ((a'b − ab')/b²)ε          quotient rule
//     g(a + a'ε)          = g(a) + g'(a)·a'ε                  chain rule, for g = exp, log, sin, cos
//
// The coefficients are themselves of type T, and the rules never look inside T: with
// T = Dual<double>, a Dual<Dual<double>> carries (value, first, first, second) derivatives, and
// f evaluated on Dual<Dual<double>>{{x, 1}, {1, 0}} yields f''(x) in .d.d — exactly, again.
#pragma once

#include <type_traits>

namespace gnm::ch03 {

template <class T>
struct Dual;

/// Ex 3.1. The product rule: (a.v·b.v, a.d·b.v + a.v·b.d).
template <class T>
Dual<T> dual_mul(const Dual<T>& a, const Dual<T>& b);
/// Ex 3.1. The quotient rule: (a.v / b.v, (a.d·b.v − a.v·b.d) / b.v²). Division by a zero value
/// gives what the scalar division gives (inf or NaN), as IEEE arithmetic does; no check.
template <class T>
Dual<T> dual_div(const Dual<T>& a, const Dual<T>& b);
/// Ex 3.1. (exp a.v, exp(a.v)·a.d). Compute exp(a.v) once and use it twice.
template <class T>
Dual<T> dual_exp(const Dual<T>& a);
/// Ex 3.1. (log a.v, a.d / a.v). For a.v <= 0 the value is NaN or −inf, as std::log gives.
template <class T>
Dual<T> dual_log(const Dual<T>& a);
/// Ex 3.1. (sin a.v, cos(a.v)·a.d).
template <class T>
Dual<T> dual_sin(const Dual<T>& a);
/// Ex 3.1. (cos a.v, −sin(a.v)·a.d).
template <class T>
Dual<T> dual_cos(const Dual<T>& a);

//! [dual]
/// A dual number v + d·ε with ε² = 0: a value and its derivative along one input direction.
///
/// T is double for first derivatives, Dual<double> for second derivatives (nesting). The
/// exercise templates are compiled (explicitly instantiated) for T = double and T = Dual<double>,
/// so Dual<double> and Dual<Dual<double>> are ready to use. The operators are hidden friends, so
/// plain numbers convert: `x * 3.0`, `1.0 / x` and `exp(x)` all work for a Dual x.
template <class T>
struct Dual {
  T v{};  ///< The value.
  T d{};  ///< The derivative: the coefficient of ε.

  Dual() = default;
  /// v + d·ε.
  Dual(T value, T derivative) : v(value), d(derivative) {}
  /// A constant: its derivative is 0 (implicit, so `x + c` works for a T c).
  Dual(T value) : v(value), d() {}  // NOLINT(google-explicit-constructor)
  /// A plain number as a constant of a nested dual (`Dual<Dual<double>>(2.0)`).
  template <class S>
    requires(std::is_arithmetic_v<S> && !std::is_same_v<S, T>)
  Dual(S value) : v(value), d() {}  // NOLINT(google-explicit-constructor)

  /// The sum rule (given).
  friend Dual operator+(const Dual& a, const Dual& b) { return {a.v + b.v, a.d + b.d}; }
  /// The difference rule (given).
  friend Dual operator-(const Dual& a, const Dual& b) { return {a.v - b.v, a.d - b.d}; }
  /// Negation (given).
  friend Dual operator-(const Dual& a) { return {-a.v, -a.d}; }
  /// The product rule (ex 3.1: dual_mul).
  friend Dual operator*(const Dual& a, const Dual& b) { return dual_mul(a, b); }
  /// The quotient rule (ex 3.1: dual_div).
  friend Dual operator/(const Dual& a, const Dual& b) { return dual_div(a, b); }
  /// exp (ex 3.1: dual_exp).
  friend Dual exp(const Dual& a) { return dual_exp(a); }
  /// Natural log (ex 3.1: dual_log).
  friend Dual log(const Dual& a) { return dual_log(a); }
  /// sin (ex 3.1: dual_sin).
  friend Dual sin(const Dual& a) { return dual_sin(a); }
  /// cos (ex 3.1: dual_cos).
  friend Dual cos(const Dual& a) { return dual_cos(a); }
};
//! [dual]

/// The input variable x of a derivative: x + 1·ε (given).
inline Dual<double> variable(double x) { return {x, 1.0}; }

/// The input of a second derivative: (x + ε₁) + ε₂·(1 + 0·ε₁); f of it holds f'' in .d.d (given).
inline Dual<Dual<double>> variable2(double x) { return {{x, 1.0}, {1.0, 0.0}}; }

}  // namespace gnm::ch03
