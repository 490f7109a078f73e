// Exercise 3.1: the dual-number rules (see exercises/ch03/dual.hpp for the task statement).
//
// Each rule is written once for any coefficient type T and compiled for T = double (first
// derivatives) and T = Dual<double> (second derivatives). Inside a rule, `exp(a.v)` must find
// std::exp for a double and the Dual overload for a Dual: the `using std::exp;` below plus
// argument-dependent lookup does exactly that.
#include "dual.hpp"

#include <cmath>

#include "gnm/core/check.hpp"

namespace gnm::ch03 {

//! [dual_mul]
template <class T>
Dual<T> dual_mul(const Dual<T>& a, const Dual<T>& b) {
  // BEGIN SOLUTION("ex 3.1", "product rule: value a.v*b.v, derivative a.d*b.v + a.v*b.d")
  return {a.v * b.v, a.d * b.v + a.v * b.d};
  // END SOLUTION
}
//! [dual_mul]

template <class T>
Dual<T> dual_div(const Dual<T>& a, const Dual<T>& b) {
  // BEGIN SOLUTION("ex 3.1", "quotient rule: value a.v/b.v, derivative (a.d*b.v - a.v*b.d) / (b.v*b.v)")
  return {a.v / b.v, (a.d * b.v - a.v * b.d) / (b.v * b.v)};
  // END SOLUTION
}

//! [dual_exp]
template <class T>
Dual<T> dual_exp(const Dual<T>& a) {
  // BEGIN SOLUTION("ex 3.1", "e = exp(a.v) (with using std::exp), then return {e, e * a.d}")
  using std::exp;
  const T e = exp(a.v);  // exp' = exp: compute it once, use it for the value and the slope
  return {e, e * a.d};
  // END SOLUTION
}
//! [dual_exp]

template <class T>
Dual<T> dual_log(const Dual<T>& a) {
  // BEGIN SOLUTION("ex 3.1", "value log(a.v), derivative a.d / a.v (with using std::log)")
  using std::log;
  return {log(a.v), a.d / a.v};
  // END SOLUTION
}

template <class T>
Dual<T> dual_sin(const Dual<T>& a) {
  // BEGIN SOLUTION("ex 3.1", "value sin(a.v), derivative cos(a.v) * a.d (with using std::sin, std::cos)")
  using std::cos;
  using std::sin;
  return {sin(a.v), cos(a.v) * a.d};
  // END SOLUTION
}

template <class T>
Dual<T> dual_cos(const Dual<T>& a) {
  // BEGIN SOLUTION("ex 3.1", "value cos(a.v), derivative -sin(a.v) * a.d")
  using std::cos;
  using std::sin;
  return {cos(a.v), -sin(a.v) * a.d};
  // END SOLUTION
}

// The instantiations the header promises: double for f', Dual<double> for f'' (nesting).
#define GNM_CH03_INSTANTIATE_DUAL(T)                                  \
  template Dual<T> dual_mul<T>(const Dual<T>&, const Dual<T>&);       \
  template Dual<T> dual_div<T>(const Dual<T>&, const Dual<T>&);       \
  template Dual<T> dual_exp<T>(const Dual<T>&);                       \
  template Dual<T> dual_log<T>(const Dual<T>&);                       \
  template Dual<T> dual_sin<T>(const Dual<T>&);                       \
  template Dual<T> dual_cos<T>(const Dual<T>&);
GNM_CH03_INSTANTIATE_DUAL(double)
GNM_CH03_INSTANTIATE_DUAL(Dual<double>)
#undef GNM_CH03_INSTANTIATE_DUAL

}  // namespace gnm::ch03
