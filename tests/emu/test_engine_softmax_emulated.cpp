// The engine's CUDA softmax / log_softmax / cross-entropy kernels, forward and backward
// (common/src/tensor/cuda/softmax_kernels.cuh, the exact text nvcc compiles), run on the CPU
// through the host emulator, launched by the same launch_* functions as softmax.cu (same 32- or
// 256-thread choice and grid). Each output is compared with a double-precision reference under
// a bound from the error model; outputs are poisoned with a guard zone after them. Shapes: row
// lengths 1, primes, < 32, 128/129 (the block-size switch), > 256 and not a multiple, softmax
// along a middle dim (inner > 1, strided rows), several rows per block (grid cap), and inputs
// far beyond exp's range (|x| ~ 10⁴: exp(x) overflows unless the max is subtracted first).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "emu_test_support.hpp"
#include "gnm/core/half.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "softmax_kernels.cuh"  // the real kernels (common/src/tensor/cuda), after the emulator

namespace {

using gnm::emu::test::Guarded;
using gnm::emu::test::EmuLaunch;

namespace sd = gnm::kernels::softmax_detail;

template <class T>
std::vector<T> random_values(std::int64_t n, std::uint64_t seed, double scale, double shift) {
  std::vector<float> f(static_cast<std::size_t>(n));
  if (n > 0) gnm::fill_uniform(f, seed, -1.0f, 1.0f);
  std::vector<T> v(f.size());
  for (std::size_t i = 0; i < f.size(); ++i)
    v[i] = static_cast<T>(static_cast<double>(f[i]) * scale + shift);
  return v;
}

// Depth of the kernels' sums over a row of n (see the reduction tests): ceil(n/T) strided terms
// per thread plus the log2(T)-level tree.
double depth(std::int64_t n) {
  const int threads = sd::small_blocks(n) ? sd::kSmallThreads : sd::kLargeThreads;
  return std::ceil(static_cast<double>(n) / threads) + std::log2(threads);
}

struct Shape3 {
  std::int64_t outer, size, inner;
};

#if defined(__SANITIZE_THREAD__)
const Shape3 kShapes[] = {{2, 1, 1}, {3, 33, 1}, {2, 257, 1}, {2, 37, 3}};
#else
const Shape3 kShapes[] = {{2, 1, 1},   {2, 2, 1},   {3, 31, 1},  {2, 33, 1},  {2, 128, 1},
                          {2, 129, 1}, {2, 257, 1}, {1, 1000, 1}, {3, 37, 4}, {2, 130, 3}};
#endif

std::string describe(Shape3 s, const char* what, unsigned grid) {
  return std::string(what) + " (" + std::to_string(s.outer) + ", " + std::to_string(s.size) +
         ", " + std::to_string(s.inner) + "), grid cap " + std::to_string(grid);
}

// Forward and backward of softmax (log = false) or log_softmax (log = true) on one shape.
template <class T>
void check_softmax(Shape3 s, bool log, double scale, double shift, unsigned max_grid) {
  const double eps = std::numeric_limits<T>::epsilon();
  const std::int64_t n = s.outer * s.size * s.inner;
  const auto x = random_values<T>(n, static_cast<std::uint64_t>(n + s.inner), scale, shift);
  const auto g = random_values<T>(n, static_cast<std::uint64_t>(3 * n + 1), 1.0, 0.0);
  Guarded<T> y(n), grad(n);
  const std::string what = describe(s, log ? "log_softmax" : "softmax", max_grid);
  sd::launch_softmax(EmuLaunch{max_grid}, x.data(), y.data(), s.outer, s.size, s.inner, log);
  // The backward consumes the reference forward output rounded to T, so it is tested alone.
  std::vector<T> y_in(static_cast<std::size_t>(n));
  std::vector<double> y_ref(static_cast<std::size_t>(n));
  for (std::int64_t o = 0; o < s.outer; ++o) {
    for (std::int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](std::int64_t k) { return (o * s.size + k) * s.inner + i; };
      double m = -std::numeric_limits<double>::infinity();
      for (std::int64_t k = 0; k < s.size; ++k) m = std::max(m, static_cast<double>(x[at(k)]));
      double sum = 0;
      for (std::int64_t k = 0; k < s.size; ++k) sum += std::exp(static_cast<double>(x[at(k)]) - m);
      const double lse = m + std::log(sum);
      for (std::int64_t k = 0; k < s.size; ++k) {
        const double v = static_cast<double>(x[at(k)]);
        const double ref = log ? v - lse : std::exp(v - m) / sum;
        // softmax: exp amplifies the rounding of v − m (|v − m|·eps, relative), plus a few ulp
        // of expf, the sum's depth·eps (positive terms: relative) and the final multiply.
        // log_softmax: v − lse, absolute error eps·(|v| + |lse|) and the log's depth·eps.
        const double tol = log ? eps * (std::abs(v) + 2 * std::abs(lse) + depth(s.size) + 4)
                               : (std::abs(v - m) + depth(s.size) + 6) * eps * ref + 1e-37;
        EXPECT_NEAR(static_cast<double>(y[at(k)]), ref, tol) << what << ", row " << o << "/" << i
                                                           << ", k " << k;
        y_in[static_cast<std::size_t>(at(k))] = static_cast<T>(ref);
        y_ref[static_cast<std::size_t>(at(k))] = static_cast<double>(static_cast<T>(ref));
      }
    }
  }
  EXPECT_TRUE(y.guard_clean()) << what;

  sd::launch_softmax_backward(EmuLaunch{max_grid}, grad.data(), g.data(), y_in.data(), s.outer,
                              s.size, s.inner, log);
  for (std::int64_t o = 0; o < s.outer; ++o) {
    for (std::int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](std::int64_t k) {
        return static_cast<std::size_t>((o * s.size + k) * s.inner + i);
      };
      double acc = 0, acc_abs = 0;
      for (std::int64_t k = 0; k < s.size; ++k) {
        const double term = static_cast<double>(g[at(k)]) * (log ? 1.0 : y_ref[at(k)]);
        acc += term;
        acc_abs += std::abs(term);
      }
      const double acc_err = (depth(s.size) + 2) * eps * acc_abs;  // the block sum's bound
      for (std::int64_t k = 0; k < s.size; ++k) {
        const double gk = static_cast<double>(g[at(k)]), yk = y_ref[at(k)];
        const double ref = log ? gk - std::exp(yk) * acc : yk * (gk - acc);
        // softmax: y·(g − acc), each of the two operations rounds once, plus y·acc_err;
        // log_softmax: g − exp(y)·acc, exp's few ulp and the product's rounding, plus
        // exp(y)·acc_err.
        const double tol =
            log ? eps * (std::abs(gk) + 4 * std::exp(yk) * std::abs(acc)) + std::exp(yk) * acc_err +
                      eps * std::abs(ref)
                : std::abs(yk) * (eps * (std::abs(gk) + std::abs(acc)) + acc_err) +
                      eps * std::abs(ref);
        EXPECT_NEAR(static_cast<double>(grad[static_cast<std::int64_t>(at(k))]), ref, tol + 1e-37)
            << what << " backward, row " << o << "/" << i << ", k " << k;
      }
    }
  }
  EXPECT_TRUE(grad.guard_clean()) << what << " backward";
}

TEST(EngineSoftmaxEmulated, SoftmaxAndLogSoftmaxForwardBackward) {
  for (const Shape3 s : kShapes) {
    for (const bool log : {false, true}) {
      check_softmax<float>(s, log, 3.0, 0.0, UINT_MAX);
      check_softmax<double>(s, log, 3.0, 0.0, UINT_MAX);
    }
  }
}

TEST(EngineSoftmaxEmulated, LargeMagnitudeInputsDoNotOverflow) {
  // exp(1000) and exp(-1000) are out of float's and double's range; so are 1e4 ± 50.
  for (const Shape3 s : {Shape3{2, 33, 1}, Shape3{2, 300, 1}}) {
    for (const bool log : {false, true}) {
      check_softmax<float>(s, log, 50.0, 1e4, UINT_MAX);
      check_softmax<float>(s, log, 50.0, -1e4, UINT_MAX);
      check_softmax<double>(s, log, 1000.0, 0.0, UINT_MAX);
    }
  }
}

// ---- 16-bit storage (f16, bf16): T = 16-bit, A = float accumulator ----

// One rounding of a 16-bit output, relative: the unit roundoff 2^-8 of bf16 (8 significant
// bits), 2^-11 of f16 (11 significant bits).
template <class T>
double half_rounding() {
  return std::is_same_v<T, gnm::bf16> ? std::ldexp(1.0, -8) : std::ldexp(1.0, -11);
}

template <class T>
double to_d(T v) {
  return static_cast<double>(static_cast<float>(v));
}

// softmax / log_softmax forward and backward with 16-bit storage. The references are computed
// in double from the 16-bit values the kernels read; the tolerance is the float-accumulation
// bound of check_softmax (eps = eps_f32) plus one rounding of the 16-bit output
// (half_rounding() · |ref|), plus 2^-24 absolute for f16 outputs that land in its subnormals.
template <class T>
void check_softmax_16(Shape3 s, bool log, unsigned max_grid) {
  const double eps = gnm::kEpsF32, r16 = half_rounding<T>(), tiny = std::ldexp(1.0, -24);
  const std::int64_t n = s.outer * s.size * s.inner;
  const auto xf = random_values<float>(n, static_cast<std::uint64_t>(n + s.inner + 7), 3.0, 0.0);
  const auto gf = random_values<float>(n, static_cast<std::uint64_t>(3 * n + 5), 1.0, 0.0);
  std::vector<T> x(xf.size()), g(gf.size()), y_in(xf.size());
  for (std::size_t i = 0; i < xf.size(); ++i) x[i] = T(xf[i]), g[i] = T(gf[i]);
  const T poison(-768.0f);  // exact in both formats
  Guarded<T> y(n, poison), grad(n, poison);
  const std::string what = describe(s, log ? "16-bit log_softmax" : "16-bit softmax", max_grid);
  sd::launch_softmax(EmuLaunch{max_grid}, x.data(), y.data(), s.outer, s.size, s.inner, log);
  std::vector<double> y_ref(static_cast<std::size_t>(n));
  for (std::int64_t o = 0; o < s.outer; ++o) {
    for (std::int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](std::int64_t k) { return (o * s.size + k) * s.inner + i; };
      auto xv = [&](std::int64_t k) { return to_d(x[static_cast<std::size_t>(at(k))]); };
      double m = -std::numeric_limits<double>::infinity();
      for (std::int64_t k = 0; k < s.size; ++k) m = std::max(m, xv(k));
      double sum = 0;
      for (std::int64_t k = 0; k < s.size; ++k) sum += std::exp(xv(k) - m);
      const double lse = m + std::log(sum);
      for (std::int64_t k = 0; k < s.size; ++k) {
        const double v = xv(k);
        const double ref = log ? v - lse : std::exp(v - m) / sum;
        const double tol = log ? eps * (std::abs(v) + 2 * std::abs(lse) + depth(s.size) + 4)
                               : (std::abs(v - m) + depth(s.size) + 6) * eps * ref;
        EXPECT_NEAR(to_d(y[at(k)]), ref, tol + r16 * (std::abs(ref) + tol) + tiny)
            << what << ", row " << o << "/" << i << ", k " << k;
        const std::size_t u = static_cast<std::size_t>(at(k));
        y_in[u] = T(static_cast<float>(ref));
        y_ref[u] = to_d(y_in[u]);
      }
    }
  }
  EXPECT_TRUE(y.guard_clean()) << what;

  sd::launch_softmax_backward(EmuLaunch{max_grid}, grad.data(), g.data(), y_in.data(), s.outer,
                              s.size, s.inner, log);
  for (std::int64_t o = 0; o < s.outer; ++o) {
    for (std::int64_t i = 0; i < s.inner; ++i) {
      auto at = [&](std::int64_t k) {
        return static_cast<std::size_t>((o * s.size + k) * s.inner + i);
      };
      double acc = 0, acc_abs = 0;
      for (std::int64_t k = 0; k < s.size; ++k) {
        const double term = to_d(g[at(k)]) * (log ? 1.0 : y_ref[at(k)]);
        acc += term;
        acc_abs += std::abs(term);
      }
      const double acc_err = (depth(s.size) + 2) * eps * acc_abs;
      for (std::int64_t k = 0; k < s.size; ++k) {
        const double gk = to_d(g[at(k)]), yk = y_ref[at(k)];
        const double ref = log ? gk - std::exp(yk) * acc : yk * (gk - acc);
        const double tol =
            log ? eps * (std::abs(gk) + 4 * std::exp(yk) * std::abs(acc)) + std::exp(yk) * acc_err +
                      eps * std::abs(ref)
                : std::abs(yk) * (eps * (std::abs(gk) + std::abs(acc)) + acc_err) +
                      eps * std::abs(ref);
        EXPECT_NEAR(to_d(grad[static_cast<std::int64_t>(at(k))]), ref,
                    tol + r16 * (std::abs(ref) + tol) + tiny)
            << what << " backward, row " << o << "/" << i << ", k " << k;
      }
    }
  }
  EXPECT_TRUE(grad.guard_clean()) << what << " backward";
}

TEST(EngineSoftmaxEmulated, HalfAndBFloat16ForwardBackward) {
  for (const Shape3 s : kShapes) {
    for (const bool log : {false, true}) {
      check_softmax_16<gnm::bf16>(s, log, UINT_MAX);
#if !defined(__SANITIZE_THREAD__)
      check_softmax_16<gnm::f16>(s, log, UINT_MAX);
#endif
    }
  }
}

TEST(EngineSoftmaxEmulated, GridStrideLoopOverRows) {
  // Blocks take several rows each, reusing their shared partials.
  check_softmax<float>({3, 37, 4}, false, 3.0, 0.0, 5);
  check_softmax<float>({5, 130, 1}, true, 3.0, 0.0, 2);
}

// Cross entropy forward and backward on N rows of C classes with label smoothing eps.
template <class T>
void check_cross_entropy(std::int64_t N, std::int64_t C, double smoothing, unsigned max_grid) {
  const double eps = std::numeric_limits<T>::epsilon();
  const auto x = random_values<T>(N * C, static_cast<std::uint64_t>(N * 1000 + C), 4.0, 0.0);
  std::vector<std::int64_t> t(static_cast<std::size_t>(N));
  for (std::int64_t i = 0; i < N; ++i) t[static_cast<std::size_t>(i)] = (i * 7 + 3) % C;
  t[0] = C - 1;  // the last class, and (N > 1) class 0 next
  if (N > 1) t[1] = 0;
  Guarded<T> loss(N), lse(N);
  const std::string what = "cross entropy " + std::to_string(N) + " x " + std::to_string(C) +
                           ", smoothing " + std::to_string(smoothing);
  sd::launch_cross_entropy(EmuLaunch{max_grid}, loss.data(), lse.data(), x.data(), t.data(), N, C,
                           static_cast<T>(smoothing));
  std::vector<T> lse_in(static_cast<std::size_t>(N));
  for (std::int64_t i = 0; i < N; ++i) {
    const T* xr = x.data() + i * C;
    double m = -std::numeric_limits<double>::infinity(), sum = 0, sum_x = 0, sum_abs = 0;
    for (std::int64_t k = 0; k < C; ++k) m = std::max(m, static_cast<double>(xr[k]));
    for (std::int64_t k = 0; k < C; ++k) {
      sum += std::exp(static_cast<double>(xr[k]) - m);
      sum_x += static_cast<double>(xr[k]);
      sum_abs += std::abs(static_cast<double>(xr[k]));
    }
    const double l = m + std::log(sum);
    const double xt = static_cast<double>(xr[t[static_cast<std::size_t>(i)]]);
    const double ref =
        (1 - smoothing) * (l - xt) + smoothing * (l - sum_x / static_cast<double>(C));
    // lse: the sum's relative depth·eps becomes an absolute error of the log, plus the roundings
    // of m + log(sum); the loss adds a few roundings of |lse| and |x_t| and the smoothing term's
    // Σx bound over C.
    const double lse_tol = eps * (2 * std::abs(l) + depth(C) + 4);
    const double loss_tol = lse_tol + eps * (3 * std::abs(l) + 2 * std::abs(xt)) +
                            smoothing * (depth(C) + 2) * eps * sum_abs / static_cast<double>(C);
    EXPECT_NEAR(static_cast<double>(lse[i]), l, lse_tol) << what << ", row " << i;
    EXPECT_NEAR(static_cast<double>(loss[i]), ref, loss_tol) << what << ", row " << i;
    lse_in[static_cast<std::size_t>(i)] = static_cast<T>(l);
  }
  EXPECT_TRUE(loss.guard_clean() && lse.guard_clean()) << what;

  // Backward with a per-row upstream gradient (gs = 1) and with a reduced loss's (gs = 0).
  const auto g = random_values<T>(N, 11, 1.0, 0.0);
  for (const std::int64_t gs : {1, 0}) {
    const double factor = gs == 0 ? 1.0 / static_cast<double>(N) : 1.0;
    Guarded<T> grad(N * C);
    sd::launch_cross_entropy_backward(EmuLaunch{max_grid}, grad.data(), g.data(), gs, x.data(),
                                      t.data(), lse_in.data(), N, C, static_cast<T>(factor),
                                      static_cast<T>(smoothing));
    for (std::int64_t i = 0; i < N; ++i) {
      const double gi = static_cast<double>(g[static_cast<std::size_t>(i * gs)]) * factor;
      const double li = static_cast<double>(lse_in[static_cast<std::size_t>(i)]);
      for (std::int64_t k = 0; k < C; ++k) {
        const double xv = static_cast<double>(x[static_cast<std::size_t>(i * C + k)]);
        const double p = std::exp(xv - li);
        const double mass = (k == t[static_cast<std::size_t>(i)] ? 1 - smoothing : 0.0) +
                            smoothing / static_cast<double>(C);
        const double ref = gi * (p - mass);
        // exp amplifies the rounding of x − lse; then p − mass and two products round once
        // each (factor itself is rounded to T: one more eps·|ref|).
        const double tol = std::abs(gi) * (p * eps * (std::abs(xv - li) + 4) +
                                           2 * eps * (p + mass)) +
                           3 * eps * std::abs(ref) + 1e-37;
        EXPECT_NEAR(static_cast<double>(grad[i * C + k]), ref, tol)
            << what << " backward, gs " << gs << ", row " << i << ", class " << k;
      }
    }
    EXPECT_TRUE(grad.guard_clean()) << what << " backward";
  }
}

TEST(EngineSoftmaxEmulated, CrossEntropyForwardBackward) {
#if defined(__SANITIZE_THREAD__)
  const std::int64_t classes[] = {1, 33, 300};
#else
  const std::int64_t classes[] = {1, 2, 10, 33, 128, 129, 300};
#endif
  for (const std::int64_t C : classes) {
    for (const double smoothing : {0.0, 0.1, 1.0}) {
      check_cross_entropy<float>(3, C, smoothing, UINT_MAX);
    }
    check_cross_entropy<double>(2, C, 0.1, UINT_MAX);
  }
  // Several rows per block in the forward, a grid-stride loop in the elementwise backward.
  check_cross_entropy<float>(7, 300, 0.1, 2);
}

struct Count {
  int* n;
  template <class K, class... A>
  void operator()(K, dim3, dim3, A...) const {
    ++*n;
  }
};

TEST(EngineSoftmaxEmulated, EmptyShapesLaunchNothing) {
  // A 0-block grid is a CUDA launch error, so the launchers must skip empty work.
  int launches = 0;
  float f = 0.0f;
  const std::int64_t t = 0;
  sd::launch_softmax(Count{&launches}, &f, &f, 0, 5, 1, false);
  sd::launch_softmax(Count{&launches}, &f, &f, 2, 0, 1, true);
  sd::launch_softmax_backward(Count{&launches}, &f, &f, &f, 2, 5, 0, false);
  sd::launch_cross_entropy(Count{&launches}, &f, &f, &f, &t, 0, 5, 0.0f);
  sd::launch_cross_entropy_backward(Count{&launches}, &f, &f, 1, &f, &t, &f, 0, 5, 1.0f, 0.0f);
  EXPECT_EQ(launches, 0);
}

// Negative control: softmax without subtracting the row max (exp(x)/Σexp(x)), otherwise the
// kernel's text for a one-warp block. On inputs near 1e4 every exp overflows to inf and the
// result is NaN; the comparison above must reject it (and the real kernel passes).
__global__ void naive_softmax_kernel(const float* x, float* y, std::int64_t n) {
  float s = 0.0f;
  for (std::int64_t k = threadIdx.x; k < n; k += 32) s += expf(x[k]);
  s = gnm::kernels::block::block_all_reduce<32>(s, gnm::kernels::block::Sum{});
  for (std::int64_t k = threadIdx.x; k < n; k += 32) y[k] = expf(x[k]) / s;
}

TEST(EngineSoftmaxEmulated, NegativeControlCatchesMissingMaxSubtraction) {
  const auto x = random_values<float>(20, 5, 50.0, 1e4);
  Guarded<float> y(20);
  gnm::emu::emu_launch(dim3(1), dim3(32), naive_softmax_kernel, x.data(), y.data(),
                       std::int64_t{20});
  int finite = 0;
  for (std::int64_t k = 0; k < 20; ++k) finite += std::isfinite(y[k]) ? 1 : 0;
  EXPECT_EQ(finite, 0) << "exp(1e4) should overflow without the max subtraction";
  check_softmax<float>({1, 20, 1}, false, 50.0, 1e4, UINT_MAX);
}

}  // namespace
