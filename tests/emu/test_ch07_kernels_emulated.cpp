// Chapter 7.5's inline-PTX kernels (chapters/ch07_cuda_from_cpp/ptx_kernels.cuh, the text nvcc
// compiles into the chapter program) run on the CPU through the host emulator, each PTX
// instruction replaced by a host model written from the PTX ISA (ptx_models.hpp): the scale
// kernels (exact), the butterfly warp sum (against a double sum with its error bound), and the
// tf32 mma.sync GEMM (against a double product of the tf32-rounded inputs, with the chapter's
// launch configuration). The models are checked on their own: cvt.rna against hand-worked bit
// patterns, the mma model on one tile of small integers against an exact product, with fragment
// loads written here from the ISA rather than taken from the kernel. A kernel copy with a wrong
// fragment mapping must fail. This checks indexing and fragment layout against our reading of
// the ISA; it cannot check the real instructions (tests/ch07/test_ptx_gpu.cu does, on a GPU).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "emu_test_support.hpp"
#include "ch07_cuda_from_cpp/ptx_kernels.cuh"  // the real kernels, after the emulator
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"

namespace {

using gnm::emu::test::random_floats;

using gnm::emu::emu_launch;
namespace ch = chapter07;
namespace pm = chapter07::ptx_model;

constexpr float kPoison = -777.0f;
constexpr int kGuard = 64;

bool all_poison(const float* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != kPoison) return false;
  }
  return true;
}

// ---- scale ----

// y = a x through the chapter's grid (scale_blocks) or a grid capped at `max_blocks`, as the
// launcher caps it at kScaleMaxGrid for large n (the grid-stride loop then runs several times).
void check_scale(bool read_only_path, std::int64_t n, std::int64_t max_blocks) {
  const std::vector<float> x = random_floats(n, 700 + static_cast<std::uint64_t>(n));
  std::vector<float> y(static_cast<std::size_t>(n + kGuard), kPoison);
  const float a = 1.75f;
  const std::int64_t blocks = std::min(ch::scale_blocks(n), max_blocks);
  emu_launch(dim3(static_cast<unsigned>(blocks)), dim3(ch::kScaleBlock),
             read_only_path ? ch::gnm_ch07_scale_nc : ch::gnm_ch07_scale_plain,
             static_cast<long long>(n), a, x.data(), y.data());
  const std::string what = std::string(read_only_path ? "nc" : "plain") + ", n " +
                           std::to_string(n) + ", blocks " + std::to_string(blocks);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto u = static_cast<std::size_t>(i);
    ASSERT_EQ(y[u], a * x[u]) << what << ", i " << i;  // one fp32 multiply: exact
  }
  EXPECT_TRUE(all_poison(y.data() + n, kGuard)) << what;
}

TEST(Ch07KernelsEmulated, ScaleBothPaths) {
#if defined(__SANITIZE_THREAD__)
  const std::int64_t sizes[] = {257};
#else
  const std::int64_t sizes[] = {1, 31, 257, 4099};
#endif
  for (const bool nc : {true, false}) {
    for (const std::int64_t n : sizes) check_scale(nc, n, ch::kScaleMaxGrid);
    check_scale(nc, 3001, 2);  // 2 blocks of 256 for 3001 elements: 6 trips of the loop
  }
}

TEST(Ch07KernelsEmulated, LaunchArithmetic) {
  EXPECT_EQ(ch::scale_blocks(1), 1);
  EXPECT_EQ(ch::scale_blocks(256), 1);
  EXPECT_EQ(ch::scale_blocks(257), 2);
  EXPECT_EQ(ch::scale_blocks(std::int64_t{4096} * 256 + 1), ch::kScaleMaxGrid);
  EXPECT_EQ(ch::warp_sum_blocks(0), 1);
  EXPECT_EQ(ch::warp_sum_blocks(257), 2);
  EXPECT_EQ(ch::warp_sum_blocks(std::int64_t{1} << 40), ch::kWarpSumMaxGrid);
  EXPECT_EQ(ch::mma_tiles(1, 1), 1);
  EXPECT_EQ(ch::mma_tiles(17, 9), 4);
  EXPECT_EQ(ch::mma_blocks(17, 9), 1);
  EXPECT_EQ(ch::mma_blocks(33, 70), 7);  // 3 × 9 = 27 tiles, 4 warps a block
}

// ---- warp sum ----

// partials[w] against a double sum of what warp w's threads read (element i is read by thread
// i mod threads). Error model: a thread adds its c <= ceil(n / threads) elements in order, then
// the butterfly adds 5 levels, so every element passes through at most c + 5 fp32 additions and
// |error| <= (c + 5) · 2^-24 · Σ|x| to first order; kEpsF32 = 2^-23 leaves a factor 2.
void check_warp_sum(std::int64_t n, std::int64_t blocks) {
  const std::vector<float> x = random_floats(n, 900 + static_cast<std::uint64_t>(n));
  const std::int64_t threads = blocks * ch::kWarpSumBlock;
  const std::int64_t warps = threads / 32;
  std::vector<float> partials(static_cast<std::size_t>(warps + kGuard), kPoison);
  emu_launch(dim3(static_cast<unsigned>(blocks)), dim3(ch::kWarpSumBlock), ch::gnm_ch07_warp_sum,
             static_cast<long long>(n), x.data(), partials.data());
  std::vector<double> ref(static_cast<std::size_t>(warps)), mass(ref.size());
  for (std::int64_t i = 0; i < n; ++i) {
    const auto w = static_cast<std::size_t>(i % threads / 32);
    ref[w] += static_cast<double>(x[static_cast<std::size_t>(i)]);
    mass[w] += std::fabs(static_cast<double>(x[static_cast<std::size_t>(i)]));
  }
  const double depth = static_cast<double>((n + threads - 1) / threads + 5);
  const std::string what = "n " + std::to_string(n) + ", blocks " + std::to_string(blocks);
  for (std::size_t w = 0; w < ref.size(); ++w) {
    const double err = std::fabs(static_cast<double>(partials[w]) - ref[w]);
    ASSERT_LE(err, depth * gnm::kEpsF32 * mass[w]) << what << ", warp " << w;  // NaN fails too
  }
  EXPECT_TRUE(all_poison(partials.data() + warps, kGuard)) << what;
}

TEST(Ch07KernelsEmulated, WarpSumButterfly) {
#if defined(__SANITIZE_THREAD__)
  const std::int64_t sizes[] = {0, 33};
#else
  const std::int64_t sizes[] = {0, 1, 31, 33, 1000, 4099};
#endif
  for (const std::int64_t n : sizes) check_warp_sum(n, ch::warp_sum_blocks(n));
  check_warp_sum(4099, 2);  // a capped grid: each thread adds 8 or 9 elements
}

// ---- tf32 rounding ----

// x rounded to 11 significant bits, ties away from zero, computed in double: an independent
// reference for normal x (frexp puts the leading bit at 2^-1; std::round rounds ties away).
float tf32_reference(float x) {
  if (x == 0.0f) return x;
  int e = 0;
  const double m = std::frexp(static_cast<double>(x), &e);
  return static_cast<float>(std::ldexp(std::round(std::ldexp(m, 11)), e - 11));
}

std::uint32_t cvt(std::uint32_t bits) {
  return pm::cvt_rna_tf32_f32(std::bit_cast<float>(bits));
}

TEST(Ch07KernelsEmulated, Tf32RoundingModel) {
  // Hand-worked patterns. A tf32 ulp is bit 13 of the fp32 pattern; half of it is 0x1000.
  EXPECT_EQ(cvt(0x3f800000u), 0x3f800000u);  // 1.0: already tf32
  EXPECT_EQ(cvt(0x3f800fffu), 0x3f800000u);  // below the half-way point: down
  EXPECT_EQ(cvt(0x3f801000u), 0x3f802000u);  // 1 + 2^-11, a tie: away from zero (RNE: 1.0)
  EXPECT_EQ(cvt(0xbf801000u), 0xbf802000u);  // -(1 + 2^-11): away from zero, i.e. down
  EXPECT_EQ(cvt(0x3f803000u), 0x3f804000u);  // a tie with an odd last bit: up either way
  EXPECT_EQ(cvt(0x3fffefffu), 0x3fffe000u);  // just below 2 - 2^-11: down to 2 - 2^-10
  EXPECT_EQ(cvt(0x3ffff000u), 0x40000000u);  // 2 - 2^-11, a tie: carries into the exponent
  EXPECT_EQ(cvt(0x7f7ff000u), 0x7f800000u);  // half-way past the largest tf32: overflows to ∞
  EXPECT_EQ(cvt(0x7f7fefffu), 0x7f7fe000u);  // just below: the largest finite tf32
  EXPECT_EQ(cvt(0x00000000u), 0x00000000u);  // +0
  EXPECT_EQ(cvt(0x80000000u), 0x80000000u);  // -0
  EXPECT_EQ(cvt(0x7f800000u), 0x7f800000u);  // +∞
  EXPECT_EQ(cvt(0xff800000u), 0xff800000u);  // -∞
  // NaNs stay NaN, including one whose payload lies only in the 13 bits that are cut.
  for (const std::uint32_t nan : {0x7fc00000u, 0x7f800001u, 0xff800fffu, 0x7fffffffu}) {
    const std::uint32_t r = cvt(nan);
    EXPECT_TRUE(std::isnan(std::bit_cast<float>(r))) << std::hex << nan << " -> " << r;
    EXPECT_EQ(r & 0x1fffu, 0u) << std::hex << nan;
    EXPECT_EQ(r >> 31, nan >> 31) << std::hex << nan;  // the sign is kept
  }
  // Subnormals round in their fixed-point mantissa.
  EXPECT_EQ(cvt(0x00000fffu), 0x00000000u);  // below half the smallest tf32 subnormal: to 0
  EXPECT_EQ(cvt(0x00001000u), 0x00002000u);  // exactly half: away from zero
  EXPECT_EQ(cvt(0x80001000u), 0x80002000u);  // negative, the same
  EXPECT_EQ(cvt(0x007ff000u), 0x00800000u);  // a tie below FLT_MIN carries into the normals
  EXPECT_EQ(cvt(0x00400abcu), 0x00400000u);
  // Random normal values against the double reference: exact, low 13 bits zero.
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::uint32_t> bits(0x00800000u, 0x7f7fefffu);
  for (int i = 0; i < 20000; ++i) {
    const std::uint32_t u = bits(rng) | (i % 2 == 0 ? 0u : 0x80000000u);
    const std::uint32_t r = cvt(u);
    ASSERT_EQ(r & 0x1fffu, 0u) << std::hex << u;
    ASSERT_EQ(std::bit_cast<float>(r), tf32_reference(std::bit_cast<float>(u))) << std::hex << u;
  }
}

// ---- tf32 mma ----

// The fragment layout must give every element of each tile to exactly one (lane, register).
TEST(Ch07KernelsEmulated, MmaLayoutIsABijection) {
  struct Shape {
    pm::Operand op;
    int regs, rows, cols;
  };
  for (const Shape s : {Shape{pm::Operand::A, 4, 16, 8}, Shape{pm::Operand::B, 2, 8, 8},
                        Shape{pm::Operand::C, 4, 16, 8}}) {
    std::vector<int> seen(static_cast<std::size_t>(s.rows * s.cols), 0);
    for (int lane = 0; lane < 32; ++lane) {
      for (int r = 0; r < s.regs; ++r) {
        const pm::Element e = pm::fragment_element(s.op, r, lane);
        ASSERT_TRUE(e.row >= 0 && e.row < s.rows && e.col >= 0 && e.col < s.cols);
        ++seen[static_cast<std::size_t>(e.row * s.cols + e.col)];
      }
    }
    for (const int count : seen) EXPECT_EQ(count, 1);
  }
}

// One warp, one 16×8×8 tile: D = A B + C through the mma model, with each lane's fragments
// loaded as the ISA's tables list them (written out here, not taken from the kernel or from
// fragment_element), for small integers, whose products and sums are exact in fp32.
__global__ void model_tile_kernel(const float* A, const float* B, const float* C, float* D) {
  const int lane = static_cast<int>(threadIdx.x);
  const int g = lane / 4, t = lane % 4;
  // Per register: (row, col) of A 16×8 row-major, B 8×8, C/D 16×8 (PTX ISA, m16n8k8 .tf32).
  const int a_row[4] = {g, g + 8, g, g + 8}, a_col[4] = {t, t, t + 4, t + 4};
  const int b_row[2] = {t, t + 4}, b_col[2] = {g, g};
  const int c_row[4] = {g, g, g + 8, g + 8}, c_col[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
  unsigned a[4], b[2];
  float d[4];
  for (int i = 0; i < 4; ++i) a[i] = ch::to_tf32(A[a_row[i] * 8 + a_col[i]]);
  for (int i = 0; i < 2; ++i) b[i] = ch::to_tf32(B[b_row[i] * 8 + b_col[i]]);
  for (int i = 0; i < 4; ++i) d[i] = C[c_row[i] * 8 + c_col[i]];
  ch::mma_m16n8k8_tf32(d[0], d[1], d[2], d[3], a[0], a[1], a[2], a[3], b[0], b[1]);
  for (int i = 0; i < 4; ++i) D[c_row[i] * 8 + c_col[i]] = d[i];
}

TEST(Ch07KernelsEmulated, MmaModelExactOnIntegerTile) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> small(-8, 8);
  std::vector<float> A(16 * 8), B(8 * 8), C(16 * 8), D(16 * 8, kPoison);
  for (float& v : A) v = static_cast<float>(small(rng));
  for (float& v : B) v = static_cast<float>(small(rng));
  for (float& v : C) v = static_cast<float>(small(rng) * 16);
  emu_launch(dim3(1), dim3(32), model_tile_kernel, static_cast<const float*>(A.data()),
             static_cast<const float*>(B.data()), static_cast<const float*>(C.data()), D.data());
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 8; ++j) {
      int exact = static_cast<int>(C[static_cast<std::size_t>(i * 8 + j)]);
      for (int k = 0; k < 8; ++k) {
        exact += static_cast<int>(A[static_cast<std::size_t>(i * 8 + k)]) *
                 static_cast<int>(B[static_cast<std::size_t>(k * 8 + j)]);
      }
      EXPECT_EQ(D[static_cast<std::size_t>(i * 8 + j)], static_cast<float>(exact))
          << "D[" << i << "][" << j << "]";
    }
  }
}

// The chapter's kernel with a1 and a2 swapped: a wrong fragment mapping the test must catch.
__global__ void mma_swapped_a1_a2(int M, int N, int K, const float* __restrict__ A,
                                  const float* __restrict__ B, float* __restrict__ C) {
  const int lane = static_cast<int>(threadIdx.x & 31);
  const long long tile =
      static_cast<long long>(blockIdx.x) * (blockDim.x / 32) + (threadIdx.x >> 5);
  const long long tiles_n = (N + 7) / 8;
  const long long tiles = static_cast<long long>((M + 15) / 16) * tiles_n;
  if (tile >= tiles) return;
  const int row0 = static_cast<int>(tile / tiles_n) * 16;
  const int col0 = static_cast<int>(tile % tiles_n) * 8;
  const int g = lane >> 2;
  const int t = lane & 3;
  float d0 = 0.0f, d1 = 0.0f, d2 = 0.0f, d3 = 0.0f;
  for (int k0 = 0; k0 < K; k0 += 8) {
    const unsigned a0 = ch::to_tf32(ch::load_or_zero(A, M, K, row0 + g, k0 + t));
    const unsigned a2 = ch::to_tf32(ch::load_or_zero(A, M, K, row0 + g + 8, k0 + t));  // wrong
    const unsigned a1 = ch::to_tf32(ch::load_or_zero(A, M, K, row0 + g, k0 + t + 4));  // wrong
    const unsigned a3 = ch::to_tf32(ch::load_or_zero(A, M, K, row0 + g + 8, k0 + t + 4));
    const unsigned b0 = ch::to_tf32(ch::load_or_zero(B, K, N, k0 + t, col0 + g));
    const unsigned b1 = ch::to_tf32(ch::load_or_zero(B, K, N, k0 + t + 4, col0 + g));
    ch::mma_m16n8k8_tf32(d0, d1, d2, d3, a0, a1, a2, a3, b0, b1);
  }
  ch::store_if(C, M, N, row0 + g, col0 + 2 * t, d0);
  ch::store_if(C, M, N, row0 + g, col0 + 2 * t + 1, d1);
  ch::store_if(C, M, N, row0 + g + 8, col0 + 2 * t, d2);
  ch::store_if(C, M, N, row0 + g + 8, col0 + 2 * t + 1, d3);
}

using MmaKernel = void (*)(int, int, int, const float*, const float*, float*);

struct MmaOutcome {
  int wrong = 0;         // elements outside the bound (or NaN: unwritten)
  bool guards = false;   // the zones before and after C still hold the poison
  double worst = 0;      // largest error / bound
};

// C = A B through `kernel` with the chapter's launch configuration (mma_tf32_gemm: mma_blocks
// blocks of kMmaWarpsPerBlock warps), against a double product of A and B rounded to tf32
// (tf32_reference, independent of the model). Those products are exact in fp32 and the model
// adds each element's K of them (zero-padded terms add exactly) one by one in fp32, so the only
// error is that recursive sum's: |error| <= (K - 1) · 2^-24 · Σ_k |â_ik b̂_kj| to first order;
// K · 2^-23 leaves a factor 2 (the real tensor cores add differently: see ptx_kernels.hpp).
MmaOutcome run_mma(MmaKernel kernel, int M, int N, int K, std::uint64_t seed) {
  const std::vector<float> A = random_floats(std::int64_t{M} * K, seed);
  const std::vector<float> B = random_floats(std::int64_t{K} * N, seed + 1);
  const auto mn = static_cast<std::size_t>(M) * static_cast<std::size_t>(N);
  std::vector<float> buf(kGuard + mn + kGuard, kPoison);
  float* C = buf.data() + kGuard;
  std::fill(C, C + mn, std::numeric_limits<float>::quiet_NaN());  // unwritten elements fail
  emu_launch(dim3(static_cast<unsigned>(ch::mma_blocks(M, N))),
             dim3(ch::kMmaWarpsPerBlock * 32), kernel, M, N, K,
             static_cast<const float*>(A.data()), static_cast<const float*>(B.data()), C);
  MmaOutcome o;
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double ref = 0, mass = 0;
      for (int k = 0; k < K; ++k) {
        const double p =
            static_cast<double>(tf32_reference(A[static_cast<std::size_t>(i) * K + k])) *
            static_cast<double>(tf32_reference(B[static_cast<std::size_t>(k) * N + j]));
        ref += p;
        mass += std::fabs(p);
      }
      const double bound = K * gnm::kEpsF32 * mass;
      const float got = C[static_cast<std::size_t>(i) * N + j];
      const double err = std::fabs(static_cast<double>(got) - ref);
      if (!(err <= bound)) ++o.wrong;
      if (bound > 0) o.worst = std::max(o.worst, err / bound);
    }
  }
  o.guards = all_poison(buf.data(), kGuard) && all_poison(C + mn, kGuard);
  return o;
}

struct MmaShape {
  int M, N, K;
};

TEST(Ch07KernelsEmulated, MmaTf32AgainstDouble) {
  // One tile; one element (3 of the block's 4 warps leave at once); K not a multiple of 8 and
  // edge tiles in M and N; several blocks, tiles and K steps; a square multiple of the tiles.
#if defined(__SANITIZE_THREAD__)
  const MmaShape shapes[] = {{16, 8, 8}, {1, 1, 1}, {17, 9, 7}, {33, 70, 19}};
#else
  const MmaShape shapes[] = {{16, 8, 8}, {1, 1, 1}, {17, 9, 7}, {33, 70, 19}, {64, 64, 64}};
#endif
  for (const MmaShape s : shapes) {
    const MmaOutcome o = run_mma(ch::gnm_ch07_mma_tf32, s.M, s.N, s.K,
                                 1000 + static_cast<std::uint64_t>(s.M * 10000 + s.N * 100 + s.K));
    const std::string what =
        std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K);
    EXPECT_EQ(o.wrong, 0) << what << ", worst error/bound " << o.worst;
    EXPECT_TRUE(o.guards) << what;
  }
}

TEST(Ch07KernelsEmulated, MmaWrongFragmentMappingIsCaught) {
  const MmaOutcome o = run_mma(mma_swapped_a1_a2, 16, 8, 8, 77);
  EXPECT_GT(o.wrong, 100) << "of 128 elements";  // nearly every element is far off
  EXPECT_GT(o.worst, 1000.0);
}

}  // namespace
