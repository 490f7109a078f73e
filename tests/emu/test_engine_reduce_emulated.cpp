// The engine's CUDA reduction kernels (common/src/tensor/cuda/reduce_kernels.cuh and
// block_reduce.cuh: sum, mean, var, max/argmax — the exact text nvcc compiles) run on the CPU
// through the host emulator, launched by the same launch_* functions as sum.cu and reduce.cu (so
// the same 32- or 256-thread choice and grid), over real gnm::Tensor views (make_layout reads
// their strides): reductions over the last dim, a middle or first dim, several dims, all dims,
// permuted, step-sliced and broadcast (stride 0) operands, lengths 1, primes, < 32, 128/129 (the
// block-size switch), > 256 and not a multiple, and an empty reduction. Each result is compared
// with a double-precision reference under the error model's bound; outputs are poisoned and have
// a guard zone that must stay untouched. TSan runs these tests (barrier placement).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "emu_test_support.hpp"
#include "gnm/core/half.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/tensor/ops.hpp"
#include "gnm/tensor/tensor.hpp"
#include "reduce_kernels.cuh"  // the real kernels (common/src/tensor/cuda), after the emulator

namespace {

using gnm::emu::test::kUnderTsan;
using gnm::emu::test::Guarded;
using gnm::emu::test::EmuLaunch;

namespace red = gnm::kernels::reduction;
using gnm::DType;
using gnm::Tensor;

// Runs what the .cu launchers run, through the emulator; max_grid < the launcher's grid forces
// the kernels' grid-stride loop over outputs. Counts launches by block size.

// The double reference of a reduction of `view` over `mask`: the values of each output's block,
// in row-major order over the reduced dims (the order the kernels number positions in).
std::vector<std::vector<double>> blocks_of(const Tensor& view, const std::vector<bool>& mask) {
  const std::vector<double> v = view.contiguous().to_vector<double>();
  const auto& shape = view.shape();
  std::int64_t n_out = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) n_out *= mask[d] ? 1 : shape[d];
  std::vector<std::vector<double>> out(static_cast<std::size_t>(n_out));
  std::vector<std::int64_t> idx(shape.size(), 0);
  for (const double x : v) {
    std::int64_t o = 0;
    for (std::size_t d = 0; d < shape.size(); ++d) o = mask[d] ? o : o * shape[d] + idx[d];
    out[static_cast<std::size_t>(o)].push_back(x);  // visits reduced positions row-major
    for (std::size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

// A view of a contiguous f32 base tensor (converted first for other dtypes, so every dtype sees
// the same strides).
struct Case {
  std::string name;
  Tensor base;
  std::function<Tensor(const Tensor&)> make_view;
  std::vector<bool> mask;
  Tensor view(DType dtype) const { return make_view(base.to(dtype)); }
};

Tensor same(const Tensor& t) { return t; }

Tensor random_f32(gnm::Shape shape, std::uint64_t seed, bool quantized = false) {
  std::int64_t n = 1;
  for (const auto s : shape) n *= s;
  std::vector<float> v(static_cast<std::size_t>(n));
  if (n > 0) gnm::fill_uniform(v, seed, -1.0f, 1.0f);
  // Quantized to eighths: many exact ties, so max must return the FIRST position of the max.
  if (quantized)
    for (float& x : v) x = std::round(x * 8.0f) / 8.0f;
  return gnm::from_vector(std::span<const float>(v), shape);
}

// Shapes and views. Under TSan (each 256-thread barrier phase is costly) a subset that still has
// both block sizes, strided and multi-dim reductions, several outputs per block and a partial
// last warp.

std::vector<Case> cases(bool quantized) {
  std::vector<Case> c;
  std::uint64_t seed = quantized ? 500 : 100;
  const std::vector<std::int64_t> lengths =
      kUnderTsan ? std::vector<std::int64_t>{1, 33, 300}
                 : std::vector<std::int64_t>{1, 7, 31, 32, 33, 128, 129, 256, 257, 1000};
  for (const std::int64_t n : lengths) {
    c.push_back({"last dim, 2 x " + std::to_string(n), random_f32({2, n}, ++seed, quantized), same,
                 {false, true}});
  }
  c.push_back({"dims 0, 2 of 4 x 3 x 37", random_f32({4, 3, 37}, ++seed, quantized), same,
               {true, false, true}});
  c.push_back({"permuted {2,0,1} of 5 x 6 x 7, dims 1, 2", random_f32({5, 6, 7}, ++seed, quantized),
               [](const Tensor& t) { return t.permute({2, 0, 1}); }, {false, true, true}});
  c.push_back({"broadcast 1 x 5 -> 160 x 5, first dim (stride 0)",
               random_f32({1, 5}, ++seed, quantized),
               [](const Tensor& t) { return t.expand({160, 5}); }, {true, false}});
  if (kUnderTsan) return c;
  c.push_back({"first dim of 131 x 5", random_f32({131, 5}, ++seed, quantized), same,
               {true, false}});
  c.push_back({"all of 3 x 5 x 70", random_f32({3, 5, 70}, ++seed, quantized), same,
               {true, true, true}});
  c.push_back({"step-3 slice of 9 x 40, last dim", random_f32({9, 40}, ++seed, quantized),
               [](const Tensor& t) { return t.slice(1, 1, 38, 3); }, {false, true}});
  c.push_back({"narrowed rows of 9 x 30, first dim", random_f32({9, 30}, ++seed, quantized),
               [](const Tensor& t) { return t.narrow(0, 2, 5); }, {true, false}});
  c.push_back({"broadcast 1 x 13 -> 6 x 13, first dim (stride 0)",
               random_f32({1, 13}, ++seed, quantized),
               [](const Tensor& t) { return t.expand({6, 13}); }, {true, false}});
  return c;
}

// Error model of the kernels' sums (Note [Block reduction]): each thread adds its ceil(n/T)
// strided terms in order, then a log2(T)-level tree (5 shuffle levels, and 3 more for the
// partials of 8 warps). Every partial sum is rounded once per level, so first order
// |err| <= (ceil(n/T) + log2(T)) · u · Σ|x| with u = eps/2; we allow eps (a factor-2 margin
// covers the higher-order terms).
double sum_bound(std::int64_t n, double eps, double sum_abs) {
  const int threads = red::small_blocks(n) ? red::kSmallThreads : red::kLargeThreads;
  const double depth = std::ceil(static_cast<double>(n) / threads) + std::log2(threads);
  return (depth + 1.0) * eps * sum_abs;
}

template <class T>
void check_sum_mean_var(const Case& c, unsigned max_grid) {
  const Tensor view = c.view(gnm::dtype_of<T>());
  const red::ReduceLayout L = red::make_layout(view, c.mask);
  const auto blocks = blocks_of(view, c.mask);
  const double eps = std::numeric_limits<T>::epsilon();
  const T poison = static_cast<T>(-777.0);
  Guarded<T> sum(L.n_out, poison), mean(L.n_out, poison), var(L.n_out, poison);
  const T* x = view.data<T>();
  const EmuLaunch launch{max_grid, nullptr};
  red::launch_sum(launch, x, sum.data(), L);
  red::launch_mean_var(launch, x, mean.data(), L, false, T(1));
  const std::int64_t dof = std::max<std::int64_t>(0, L.red_n - 1);  // correction 1
  red::launch_mean_var(launch, x, var.data(), L, true, static_cast<T>(dof));
  const std::string what = c.name + ", grid cap " + std::to_string(max_grid);
  ASSERT_EQ(static_cast<std::int64_t>(blocks.size()), L.n_out) << what;
  for (std::int64_t o = 0; o < L.n_out; ++o) {
    const auto& b = blocks[static_cast<std::size_t>(o)];
    double s = 0, sa = 0;
    for (const double v : b) s += v, sa += std::abs(v);
    const double n = static_cast<double>(b.size());
    const double bound = sum_bound(L.red_n, eps, sa);
    EXPECT_NEAR(static_cast<double>(sum[o]), s, bound) << what << ", output " << o;
    const double mu = s / n;
    // mean: the sum's error over n, and one more rounding for the division.
    EXPECT_NEAR(static_cast<double>(mean[o]), mu, bound / n + eps * std::abs(mu))
        << what << ", output " << o;
    double ss = 0;
    for (const double v : b) ss += (v - mu) * (v - mu);
    if (dof == 0) {
      EXPECT_TRUE(std::isnan(var[o]) || std::isinf(var[o])) << what << ": 0 degrees of freedom";
      continue;
    }
    // var: the squares are positive, so their sum's bound is relative: (depth + 3) eps
    // covering the subtraction, the square and the division too; the mean's error δ adds
    // n·δ² (second order) to Σ(x − μ)².
    const double delta = bound / n + eps * std::abs(mu);
    const double var_bound =
        (sum_bound(L.red_n, eps, ss) + 3 * eps * ss + n * delta * delta) / static_cast<double>(dof);
    EXPECT_NEAR(static_cast<double>(var[o]), ss / static_cast<double>(dof), var_bound)
        << what << ", output " << o;
  }
  EXPECT_TRUE(sum.guard_clean()) << what;
  EXPECT_TRUE(mean.guard_clean()) << what;
  EXPECT_TRUE(var.guard_clean()) << what;
}

TEST(EngineReduceEmulated, SumMeanVarFloatAndDouble) {
  int small = 0;
  for (const Case& c : cases(false)) {
    check_sum_mean_var<float>(c, UINT_MAX);
    if (!kUnderTsan) check_sum_mean_var<double>(c, UINT_MAX);
    const red::ReduceLayout L = red::make_layout(c.view(DType::f32), c.mask);
    if (red::small_blocks(L.red_n)) ++small;
  }
  EXPECT_GT(small, 0) << "no case took the 32-thread kernels";
}

TEST(EngineReduceEmulated, GridStrideLoopOverOutputs) {
  // 2 blocks for >= 5 outputs: blocks reuse their shared partials across outputs (both block
  // sizes: "permuted" has rows of 42, "broadcast 160 x 5" rows of 160).
  for (const Case& c : cases(false)) {
    const red::ReduceLayout L = red::make_layout(c.view(DType::f32), c.mask);
    if (L.n_out < 5) continue;
    check_sum_mean_var<float>(c, 2);
  }
}

template <class T>
void check_max(const Case& c, unsigned max_grid) {
  const Tensor view = c.view(gnm::dtype_of<T>());
  const red::ReduceLayout L = red::make_layout(view, c.mask);
  const auto blocks = blocks_of(view, c.mask);
  Guarded<T> values(L.n_out, static_cast<T>(-777));
  Guarded<std::int64_t> indices(L.n_out, -777);
  red::launch_max(EmuLaunch{max_grid, nullptr}, view.data<T>(), values.data(), indices.data(), L);
  const std::string what = c.name + ", grid cap " + std::to_string(max_grid);
  for (std::int64_t o = 0; o < L.n_out; ++o) {
    const auto& b = blocks[static_cast<std::size_t>(o)];
    std::size_t first = 0;  // the first NaN, else the first maximum
    for (std::size_t i = 1; i < b.size(); ++i) {
      if (std::isnan(b[first])) break;
      if (std::isnan(b[i]) || b[i] > b[first]) first = i;
    }
    EXPECT_EQ(indices[o], static_cast<std::int64_t>(first)) << what << ", output " << o;
    if (std::isnan(b[first])) {
      EXPECT_TRUE(std::isnan(static_cast<double>(values[o]))) << what << ", output " << o;
    } else {
      EXPECT_EQ(static_cast<double>(values[o]), b[first]) << what << ", output " << o;
    }
  }
  EXPECT_TRUE(values.guard_clean()) << what;
  EXPECT_TRUE(indices.guard_clean()) << what;
}

TEST(EngineReduceEmulated, MaxAndFirstIndexWithTies) {
  for (const Case& c : cases(true)) {
    check_max<float>(c, UINT_MAX);
    if (!kUnderTsan) check_max<double>(c, UINT_MAX);
    // i32 (int64 partials) from eighths × 8, exact; a grid of 3 blocks loops over the outputs.
    check_max<std::int32_t>(Case{c.name, gnm::mul(c.base, 8.0), c.make_view, c.mask}, 3);
  }
}

TEST(EngineReduceEmulated, MaxNaNWinsFirstNaN) {
  // NaNs at positions 5 and 200 of a 300-long row, 17 and 40 of a 50-long one.
  for (const std::int64_t n : {50, 300}) {
    std::vector<float> v(static_cast<std::size_t>(2 * n));
    gnm::fill_uniform(v, 9, -1.0f, 1.0f);
    const std::int64_t a = n == 50 ? 17 : 5, b = n == 50 ? 40 : 200;
    v[static_cast<std::size_t>(b)] = std::numeric_limits<float>::quiet_NaN();
    v[static_cast<std::size_t>(a)] = std::numeric_limits<float>::quiet_NaN();
    v[static_cast<std::size_t>(n + b)] = std::numeric_limits<float>::quiet_NaN();
    const Tensor x = gnm::from_vector(std::span<const float>(v), {2, n});
    check_max<float>(Case{"NaN row of " + std::to_string(n), x, same, {false, true}}, UINT_MAX);
  }
}

// A launch callable that only counts.
struct Count {
  int* n;
  template <class K, class... A>
  void operator()(K, dim3, dim3, A...) const {
    ++*n;
  }
};

TEST(EngineReduceEmulated, EmptyReductionAndNoOutputs) {
  // 3 outputs of 0 elements: sum 0, mean 0/0 = NaN (as the CPU kernels document).
  const Tensor x = gnm::zeros({3, 0});
  const red::ReduceLayout L = red::make_layout(x, {false, true});
  Guarded<float> sum(3, -777.0f), mean(3, -777.0f);
  red::launch_sum(EmuLaunch{}, x.data<float>(), sum.data(), L);
  red::launch_mean_var(EmuLaunch{}, x.data<float>(), mean.data(), L, false, 1.0f);
  for (std::int64_t o = 0; o < 3; ++o) {
    EXPECT_EQ(sum[o], 0.0f);
    EXPECT_TRUE(std::isnan(mean[o]));
  }
  EXPECT_TRUE(sum.guard_clean() && mean.guard_clean());
  // No outputs: the launchers must not launch a 0-block grid (a CUDA launch error).
  const Tensor y = gnm::zeros({0, 5});
  const red::ReduceLayout M = red::make_layout(y, {false, true});
  int launches = 0;
  red::launch_sum(Count{&launches}, y.data<float>(), sum.data(), M);
  red::launch_mean_var(Count{&launches}, y.data<float>(), sum.data(), M, true, 1.0f);
  red::launch_max(Count{&launches}, y.data<float>(), sum.data(), nullptr, M);
  EXPECT_EQ(launches, 0);
}

// Negative control: block_all_reduce's text with one realistic bug, the warp tree starting at
// offset 8 instead of 16 (as if written for 16-lane warps): lanes 16–31 of every warp are never
// added in. The comparison above must see it for any row longer than 16 — and the real kernel
// passes the same rows.
template <int kThreads>
__global__ void buggy_sum_kernel(const float* x, float* out, std::int64_t n) {
  float v = 0.0f;
  for (std::int64_t r = threadIdx.x; r < n; r += kThreads) v += x[r];
  for (unsigned d = 8; d > 0; d /= 2) v += __shfl_down_sync(0xffffffffu, v, d);  // BUG: 16
  __shared__ float partial[kThreads / 32];
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = 0.0f;
    for (int w = 0; w < kThreads / 32; ++w) total += partial[w];
    out[blockIdx.x] = total;
  }
}

// ---- 16-bit storage (f16, bf16): T = 16-bit, A = float accumulator ----

// A stored value as double (the 16-bit types convert explicitly, and only to float).
template <class T>
double to_d(T v) {
  if constexpr (std::is_same_v<T, gnm::f16> || std::is_same_v<T, gnm::bf16>)
    return static_cast<double>(static_cast<float>(v));
  else
    return static_cast<double>(v);
}

// One rounding of a 16-bit output, relative: the unit roundoff 2^-8 of bf16 (8 significant
// bits), 2^-11 of f16 (11 significant bits).
template <class T>
double half_rounding() {
  return std::is_same_v<T, gnm::bf16> ? std::ldexp(1.0, -8) : std::ldexp(1.0, -11);
}

// sum/mean/var of 16-bit inputs, compared with a double reference computed from the very 16-bit
// values the kernel reads: the float accumulation's bound (as for f32 above, eps = eps_f32) plus
// one rounding of the 16-bit output (half_rounding() · |result|). The inputs are in [-1, 1] and
// the results far above f16's subnormal range except near zero, where the float bound dominates;
// an absolute 2^-24 (f16's smallest subnormal) covers results that underflow into it.
template <class T>
void check_sum_mean_var_16(const Case& c, unsigned max_grid) {
  const Tensor view = c.view(gnm::dtype_of<T>());
  const red::ReduceLayout L = red::make_layout(view, c.mask);
  const auto blocks = blocks_of(view, c.mask);  // the 16-bit values, exactly, as double
  const double eps = gnm::kEpsF32, r16 = half_rounding<T>(), tiny = std::ldexp(1.0, -24);
  const T poison(-768.0f);  // exact in both formats
  Guarded<T> sum(L.n_out, poison), mean(L.n_out, poison), var(L.n_out, poison);
  const T* x = view.data<T>();
  const EmuLaunch launch{max_grid, nullptr};
  red::launch_sum(launch, x, sum.data(), L);
  red::launch_mean_var(launch, x, mean.data(), L, false, 1.0f);
  const std::int64_t dof = std::max<std::int64_t>(0, L.red_n - 1);
  red::launch_mean_var(launch, x, var.data(), L, true, static_cast<float>(dof));
  const std::string what = c.name + ", grid cap " + std::to_string(max_grid);
  ASSERT_EQ(static_cast<std::int64_t>(blocks.size()), L.n_out) << what;
  for (std::int64_t o = 0; o < L.n_out; ++o) {
    const auto& b = blocks[static_cast<std::size_t>(o)];
    double s = 0, sa = 0;
    for (const double v : b) s += v, sa += std::abs(v);
    const double n = static_cast<double>(b.size());
    const double bound = sum_bound(L.red_n, eps, sa);
    EXPECT_NEAR(to_d(sum[o]), s, bound + r16 * (std::abs(s) + bound) + tiny)
        << what << ", output " << o;
    const double mu = s / n;
    const double mean_bound = bound / n + eps * std::abs(mu);
    EXPECT_NEAR(to_d(mean[o]), mu, mean_bound + r16 * (std::abs(mu) + mean_bound) + tiny)
        << what << ", output " << o;
    if (dof == 0) continue;  // 0/0, checked for float above
    double ss = 0;
    for (const double v : b) ss += (v - mu) * (v - mu);
    const double var_ref = ss / static_cast<double>(dof);
    const double var_bound =
        (sum_bound(L.red_n, eps, ss) + 3 * eps * ss + n * mean_bound * mean_bound) /
        static_cast<double>(dof);
    EXPECT_NEAR(to_d(var[o]), var_ref, var_bound + r16 * (var_ref + var_bound) + tiny)
        << what << ", output " << o;
  }
  EXPECT_TRUE(sum.guard_clean()) << what;
  EXPECT_TRUE(mean.guard_clean()) << what;
  EXPECT_TRUE(var.guard_clean()) << what;
}

// max/argmax of 16-bit values: exact (a float holds every 16-bit value, the comparison is exact,
// and the stored maximum converts back without rounding). Eighths in [-1, 1] are exact in both
// formats, so the ties survive the conversion.
template <class T>
void check_max_16(const Case& c, unsigned max_grid) {
  const Tensor view = c.view(gnm::dtype_of<T>());
  const red::ReduceLayout L = red::make_layout(view, c.mask);
  const auto blocks = blocks_of(view, c.mask);
  Guarded<T> values(L.n_out, T(-768.0f));
  Guarded<std::int64_t> indices(L.n_out, -777);
  red::launch_max(EmuLaunch{max_grid, nullptr}, view.data<T>(), values.data(), indices.data(), L);
  const std::string what = c.name + ", grid cap " + std::to_string(max_grid);
  for (std::int64_t o = 0; o < L.n_out; ++o) {
    const auto& b = blocks[static_cast<std::size_t>(o)];
    std::size_t first = 0;
    for (std::size_t i = 1; i < b.size(); ++i)
      if (b[i] > b[first]) first = i;
    EXPECT_EQ(indices[o], static_cast<std::int64_t>(first)) << what << ", output " << o;
    EXPECT_EQ(to_d(values[o]), b[first]) << what << ", output " << o;
  }
  EXPECT_TRUE(values.guard_clean()) << what;
  EXPECT_TRUE(indices.guard_clean()) << what;
}

TEST(EngineReduceEmulated, SumMeanVarMaxHalfAndBFloat16) {
  for (const Case& c : cases(false)) {
    check_sum_mean_var_16<gnm::bf16>(c, UINT_MAX);
    if (!kUnderTsan) check_sum_mean_var_16<gnm::f16>(c, UINT_MAX);
  }
  for (const Case& c : cases(true)) {
    check_max_16<gnm::bf16>(c, UINT_MAX);
    if (!kUnderTsan) check_max_16<gnm::f16>(c, 3);
  }
}

TEST(EngineReduceEmulated, NegativeControlCatchesShortWarpTree) {
  for (const std::int64_t n : {40, 300}) {
    const Tensor x = random_f32({1, n}, 77);
    std::vector<float> v = x.to_vector<float>();
    double s = 0, sa = 0;
    for (const float f : v) s += static_cast<double>(f), sa += static_cast<double>(std::abs(f));
    float got = -777.0f;
    gnm::emu::emu_launch(dim3(1), dim3(256), buggy_sum_kernel<256>, v.data(), &got, n);
    EXPECT_GT(std::abs(static_cast<double>(got) - s), sum_bound(n, gnm::kEpsF32, sa))
        << "the harness missed it, n " << n;
    check_sum_mean_var<float>(Case{"control row " + std::to_string(n), x, same, {false, true}},
                              UINT_MAX);
  }
}

}  // namespace
