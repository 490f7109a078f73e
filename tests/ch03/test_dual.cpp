// Exercise 3.1: dual numbers give derivatives exact to rounding, nested ones second derivatives.
// Every test evaluates a dual rule, so each fails on the generated stubs (gnm::NotImplemented).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "dual.hpp"

namespace {

using gnm::ch03::Dual;
using gnm::ch03::variable;
using gnm::ch03::variable2;

constexpr double kEps = std::numeric_limits<double>::epsilon();

// A derivative rule evaluates the textbook formula with one or two roundings per operation, so
// the result is within a few ulps of the same formula evaluated in plain doubles.
void expect_close(double got, double want, double ulps = 8.0) {
  EXPECT_LE(std::fabs(got - want), ulps * kEps * std::max(1.0, std::fabs(want)))
      << "got " << got << ", want " << want;
}

TEST(Ch03Dual, ProductAndQuotientRules) {
  for (double x : {-2.5, -0.3, 0.7, 3.0}) {
    const Dual<double> v = variable(x);
    const Dual<double> cube = v * v * v;  // (x³)' = 3x²
    expect_close(cube.v, x * x * x);
    expect_close(cube.d, 3 * x * x);
    const Dual<double> q = v / (v * v + 1.0);  // (x / (x² + 1))' = (1 − x²) / (x² + 1)²
    expect_close(q.v, x / (x * x + 1));
    expect_close(q.d, (1 - x * x) / ((x * x + 1) * (x * x + 1)));
  }
}

TEST(Ch03Dual, ProductRuleWithTwoDirections) {
  // Seeding a with derivative 2 and b with 5 gives the directional derivative 2·b + 5·a.
  const Dual<double> a(1.5, 2.0), b(-4.0, 5.0);
  const Dual<double> p = a * b;
  EXPECT_EQ(p.v, -6.0);
  EXPECT_EQ(p.d, 2.0 * -4.0 + 1.5 * 5.0);
  const Dual<double> q = a / b;
  expect_close(q.d, (2.0 * -4.0 - 1.5 * 5.0) / 16.0);
}

TEST(Ch03Dual, ElementaryFunctions) {
  for (double x : {0.25, 1.0, 2.75}) {
    const Dual<double> v = variable(x);
    const Dual<double> e = exp(v), l = log(v), s = sin(v), c = cos(v);
    expect_close(e.v, std::exp(x));
    expect_close(e.d, std::exp(x));
    expect_close(l.v, std::log(x));
    expect_close(l.d, 1.0 / x);
    expect_close(s.v, std::sin(x));
    expect_close(s.d, std::cos(x));
    expect_close(c.v, std::cos(x));
    expect_close(c.d, -std::sin(x));
  }
}

TEST(Ch03Dual, ChainRuleScalesTheIncomingDerivative) {
  // g(a) for a with derivative 3: the result's derivative is g'(a)·3, not g'(a).
  const Dual<double> a(0.5, 3.0);
  expect_close(exp(a).d, 3.0 * std::exp(0.5));
  expect_close(log(a).d, 3.0 / 0.5);
  expect_close(sin(a).d, 3.0 * std::cos(0.5));
  expect_close(cos(a).d, -3.0 * std::sin(0.5));
}

TEST(Ch03Dual, CompositeAgainstHandDerivative) {
  // f(x) = exp(sin x) · log x / cos x
  // f'(x) = f(x) · (cos x + 1 / (x log x) + tan x)
  for (double x : {0.4, 1.3, 2.2}) {
    const Dual<double> v = variable(x);
    const Dual<double> f = exp(sin(v)) * log(v) / cos(v);
    const double fx = std::exp(std::sin(x)) * std::log(x) / std::cos(x);
    expect_close(f.v, fx, 16);
    expect_close(f.d, fx * (std::cos(x) + 1.0 / (x * std::log(x)) + std::tan(x)), 64);
  }
}

TEST(Ch03Dual, PlainNumbersAreConstants) {
  const Dual<double> v = variable(2.0);
  const Dual<double> f = 3.0 * v - v / 4.0 + 1.0;  // f' = 3 − 1/4
  EXPECT_EQ(f.v, 6.5);
  EXPECT_EQ(f.d, 2.75);
  const Dual<double> g = 1.0 / v;  // −1/x²
  EXPECT_EQ(g.d, -0.25);
}

TEST(Ch03Dual, NestedDualsGiveSecondDerivatives) {
  for (double x : {0.5, 1.7}) {
    const auto v = variable2(x);
    const auto cube = v * v * v;  // (x³)'' = 6x
    expect_close(cube.v.v, x * x * x);
    expect_close(cube.v.d, 3 * x * x);
    expect_close(cube.d.v, 3 * x * x);
    expect_close(cube.d.d, 6 * x);
    const auto f = exp(sin(v));  // (cos²x − sin x)·e^{sin x}
    expect_close(f.d.d, (std::cos(x) * std::cos(x) - std::sin(x)) * std::exp(std::sin(x)), 16);
    const auto g = log(v) / v;  // (2 log x − 3) / x³
    expect_close(g.d.d, (2 * std::log(x) - 3) / (x * x * x), 32);
    const auto c = cos(v) * 2.0;  // −2 cos x
    expect_close(c.d.d, -2 * std::cos(x));
  }
}

TEST(Ch03Dual, DivisionByZeroFollowsIeee) {
  const Dual<double> q = Dual<double>(1.0, 0.0) / Dual<double>(0.0, 1.0);
  EXPECT_TRUE(std::isinf(q.v));
  const Dual<double> l = log(Dual<double>(0.0, 1.0));
  EXPECT_TRUE(std::isinf(l.v) && l.v < 0);
  EXPECT_TRUE(std::isnan(log(Dual<double>(-1.0, 1.0)).v));
}

}  // namespace
