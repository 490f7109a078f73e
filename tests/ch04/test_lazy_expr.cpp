// Exercise 4.4: the expression-template node and its evaluation loop. Results are checked against
// double precision within the error model on odd lengths (0, 1, primes, not a multiple of the
// vector width), against the hand-written loop, and for the absence of any heap allocation: this
// file replaces the global operator new to count them. Every test evaluates a lazy expression, so
// each fails on the stub.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "lazy_expr.hpp"

// ---- counting every heap allocation of this test program -------------------------------------
// The replacements pair malloc/aligned_alloc with free, which is right; GCC cannot see that these
// operators *are* the allocation functions and warns that free() meets memory from `new`.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<long> g_heap_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  g_heap_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  const std::size_t rounded = (size + a - 1) / a * a;  // aligned_alloc wants a multiple of a
  if (void* p = std::aligned_alloc(a, rounded == 0 ? a : rounded)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using namespace gnm::ch04;

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
  std::vector<float> v(n);
  gnm::fill_uniform(v, seed, -2.0f, 2.0f);
  return v;
}

// Note [axpbyc tolerance] (chapters/ch04_cpp_numerics/zero_cost.cpp): r rounded operations, each
// within u = eps/2 of its own result, err ≤ r·u·Σ|terms|; `roundings · eps / 2 · mass` with mass
// the sum of the magnitudes of every intermediate term, plus a factor 2 to spare.
void expect_close(const std::vector<float>& got, const std::vector<double>& ref,
                  const std::vector<double>& mass, double roundings) {
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double bound = roundings * gnm::kEpsF32 * mass[i];
    ASSERT_LE(std::fabs(double(got[i]) - ref[i]), bound) << "element " << i << " of " << ref.size();
  }
}

TEST(Ch04LazyExpr, AxpbycMatchesDoublePrecisionOnOddLengths) {
  const float a = 0.75f, b = -1.5f, c = 0.25f;
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{31},
                        std::size_t{1000}, std::size_t{4099}}) {
    const auto x = random_vector(n, 1), y = random_vector(n, 2);
    std::vector<float> d(n, NAN);
    axpbyc_lazy(a, x, b, y, c, d);
    std::vector<double> ref(n), mass(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double ax = double(a) * double(x[i]), by = double(b) * double(y[i]);
      ref[i] = ax + by + double(c);
      mass[i] = std::fabs(ax) + std::fabs(by) + std::fabs(double(c));
    }
    expect_close(d, ref, mass, 2.0);
  }
}

TEST(Ch04LazyExpr, AgreesWithTheHandWrittenLoop) {
  const std::size_t n = 1013;
  const auto x = random_vector(n, 3), y = random_vector(n, 4);
  std::vector<float> lazy(n, NAN), hand(n, NAN);
  axpbyc_lazy(2.0f, x, 0.5f, y, -1.0f, lazy);
  axpbyc_hand(2.0f, x, 0.5f, y, -1.0f, hand);
  for (std::size_t i = 0; i < n; ++i) {
    // Same operations in the same order; only a fused multiply-add may differ: ≤ 2 roundings.
    const double scale = std::fabs(2.0 * double(x[i])) + std::fabs(0.5 * double(y[i])) + 1.0;
    ASSERT_LE(std::fabs(double(lazy[i]) - double(hand[i])), 2.0 * gnm::kEpsF32 * scale) << i;
  }
}

TEST(Ch04LazyExpr, AxpyAndDifferenceOfSquares) {
  const std::size_t n = 257;
  const auto x = random_vector(n, 5), y = random_vector(n, 6);
  std::vector<float> out(n, NAN);
  axpy_lazy(-3.0f, x, y, out);
  std::vector<double> ref(n), mass(n);
  for (std::size_t i = 0; i < n; ++i) {
    ref[i] = -3.0 * double(x[i]) + double(y[i]);
    mass[i] = std::fabs(3.0 * double(x[i])) + std::fabs(double(y[i]));
  }
  expect_close(out, ref, mass, 2.0);

  std::fill(out.begin(), out.end(), NAN);
  diff_of_squares_lazy(x, y, out);
  for (std::size_t i = 0; i < n; ++i) {
    const double s = double(x[i]) + double(y[i]), d = double(x[i]) - double(y[i]);
    ref[i] = s * d;
    // (x+y) and (x−y) each rounded once, then the product: |err| ≤ 3u·|x+y|·|x−y| to first order,
    // measured against the exact sum and difference (|x|+|y| bounds both).
    mass[i] = (std::fabs(double(x[i])) + std::fabs(double(y[i]))) *
              (std::fabs(double(x[i])) + std::fabs(double(y[i])));
  }
  expect_close(out, ref, mass, 3.0);
}

TEST(Ch04LazyExpr, EvaluationAllocatesNothingWhileNaiveAllocatesFourTemporaries) {
  const std::size_t n = 4096;
  const auto x = random_vector(n, 7), y = random_vector(n, 8);
  std::vector<float> d(n);
  const long before_lazy = g_heap_allocations.load();
  axpbyc_lazy(1.0f, x, 2.0f, y, 3.0f, d);
  EXPECT_EQ(g_heap_allocations.load() - before_lazy, 0) << "expression templates make no temporary";

  const NaiveVec nx(x), ny(y);
  const long before_naive = g_heap_allocations.load();
  const NaiveVec r = axpbyc_naive(1.0f, nx, 2.0f, ny, 3.0f);
  EXPECT_EQ(g_heap_allocations.load() - before_naive, 4) << "a·x, b·y, their sum, + c";
  for (std::size_t i = 0; i < n; ++i) ASSERT_NEAR(double(r[i]), double(d[i]), 4 * gnm::kEpsF32 * 12.0) << i;
}

TEST(Ch04LazyExpr, LengthMismatchIsAShapeError) {
  const auto x = random_vector(10, 9), y = random_vector(11, 10);
  std::vector<float> d(10), short_out(9);
  EXPECT_THROW(axpbyc_lazy(1.0f, x, 1.0f, y, 0.0f, d), gnm::ShapeError);
  EXPECT_THROW(axpy_lazy(1.0f, x, x, short_out), gnm::ShapeError);
  axpy_lazy(1.0f, x, x, d);  // and a valid one, which must work
  for (std::size_t i = 0; i < d.size(); ++i) EXPECT_EQ(d[i], 2.0f * x[i]);
}

}  // namespace
