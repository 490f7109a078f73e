// 7.5's Hopper GEMM on the GPU: wgmma_gemm_bf16 against a double-precision CPU reference, the
// naive kernel and cuBLAS, at the tile, at multiples of it, at the smallest size and at sizes that
// are not multiples of anything, with C poisoned (NaN) and guarded on both sides. GPU tests: they
// skip without a device (fail under GNM_REQUIRE_GPU=1) and skip on a device that is not sm_90.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gnm/cuda/stream.hpp"
#include "gpu_test.hpp"
#include "test_basics.hpp"
#include "wgmma_gemm.hpp"

namespace {

using bf16 = __nv_bfloat16;

// Skips on a device the wgmma kernel cannot run on (it needs compute capability 9.0).
#define SKIP_UNLESS_SM90()                                                        \
  do {                                                                            \
    GNM_GPU_TEST_OR_SKIP();                                                       \
    if (!gnm::ch07::wgmma_device_supported()) {                                   \
      GTEST_SKIP() << "wgmma_gemm_bf16 needs a compute capability 9.0 device";    \
    }                                                                             \
  } while (0)

enum class Gemm { wgmma, naive, cublas };

const char* name_of(Gemm g) {
  switch (g) {
    case Gemm::wgmma: return "wgmma";
    case Gemm::naive: return "naive";
    case Gemm::cublas: return "cublas";
  }
  return "?";
}

// Random A (M, K) and B (N, K) in bf16 (uniform in [-1, 1), rounded to nearest), on both sides.
struct Problem {
  int M = 0, N = 0, K = 0;
  std::vector<bf16> a, b;
  gnm::cuda::DeviceBuffer<bf16> d_a, d_b;
  double bound = 0.0;  // gemm_bf16_error_bound: worst |C_ij − exact| of one GPU result

  Problem(int m, int n, int k, std::uint64_t seed)
      : M(m), N(n), K(k), a(random_bf16(std::size_t(m) * k, seed)),
        b(random_bf16(std::size_t(n) * k, seed + 1)), d_a(a.size()), d_b(b.size()) {
    d_a.copy_from_host(a);
    d_b.copy_from_host(b);
    bound = gnm::ch07::gemm_bf16_error_bound(k, gnm::ch07::max_row_norm(a.data(), m, k),
                                             gnm::ch07::max_row_norm(b.data(), n, k));
  }

  static std::vector<bf16> random_bf16(std::size_t n, std::uint64_t seed) {
    const std::vector<float> f = gnm::testing::uniform(n, seed);
    std::vector<bf16> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = __float2bfloat16_rn(f[i]);
    return out;
  }

  // C in double from the bf16 values: exact products, a double sum (error ~K·2^-53, negligible).
  std::vector<double> reference() const {
    std::vector<double> c(std::size_t(M) * N);
    for (std::size_t i = 0; i < std::size_t(M); ++i) {
      for (std::size_t j = 0; j < std::size_t(N); ++j) {
        double s = 0.0;
        for (std::size_t k = 0; k < std::size_t(K); ++k) {
          s += static_cast<double>(__bfloat162float(a[i * K + k])) *
               static_cast<double>(__bfloat162float(b[j * K + k]));
        }
        c[i * N + j] = s;
      }
    }
    return c;
  }
};

constexpr std::uint32_t kPoisonBits = 0xFFFFFFFFu;  // a NaN: an unwritten element cannot pass
constexpr std::size_t kGuard = 64;                  // poisoned floats on each side of C

// Runs `g` into a C poisoned with NaN and flanked by kGuard poisoned floats on each side (plus
// `misalign` floats, to move C off an 8-byte boundary); checks the guards and returns C.
std::vector<float> run(Gemm g, const Problem& p, cudaStream_t stream = nullptr,
                       std::size_t misalign = 0) {
  const std::size_t n = std::size_t(p.M) * p.N;
  const std::size_t front = kGuard + misalign;
  gnm::cuda::DeviceBuffer<float> d_c(front + n + kGuard);
  GNM_CUDA_CHECK(cudaMemset(d_c.data(), 0xFF, d_c.bytes()));
  float* c = d_c.data() + front;
  auto* gemm = g == Gemm::wgmma   ? gnm::ch07::wgmma_gemm_bf16
               : g == Gemm::naive ? gnm::ch07::naive_gemm_bf16
                                  : gnm::ch07::cublas_gemm_bf16;
  gemm(p.d_a.data(), p.d_b.data(), c, p.M, p.N, p.K, stream);
  GNM_CUDA_CHECK(cudaStreamSynchronize(stream));
  GNM_CUDA_CHECK(cudaGetLastError());
  std::vector<float> all(d_c.size());
  d_c.copy_to_host(all);
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i >= front && i < front + n) continue;
    std::uint32_t bits;
    std::memcpy(&bits, &all[i], sizeof bits);
    EXPECT_EQ(bits, kPoisonBits) << name_of(g) << " wrote outside C (" << p.M << "x" << p.N << "x"
                                 << p.K << ") at guard float " << i;
  }
  return {all.begin() + static_cast<std::ptrdiff_t>(front),
          all.begin() + static_cast<std::ptrdiff_t>(front + n)};
}

// Every element of `got` within `abs` of `ref` (NaN fails: the poison must have been overwritten).
void expect_close(const std::vector<float>& got, const std::vector<double>& ref, double abs,
                  const std::string& what) {
  const auto r = gnm::compare(got, ref, gnm::Tolerance{abs, 0.0});
  EXPECT_TRUE(r.ok) << what << " (bound " << abs << "): " << r.report;
}

void expect_matches_cpu(int M, int N, int K, std::uint64_t seed) {
  const Problem p(M, N, K, seed);
  const std::string what = "wgmma " + std::to_string(M) + "x" + std::to_string(N) + "x" +
                           std::to_string(K) + " vs CPU double";
  expect_close(run(Gemm::wgmma, p), p.reference(), p.bound, what);
}

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST(Ch07WgmmaGpu, MatchesCpuReferenceAtTheTileAndItsMultiples) {
  SKIP_UNLESS_SM90();
  expect_matches_cpu(128, 256, 64, 11);    // exactly one tile, one k-step
  expect_matches_cpu(256, 512, 128, 12);   // 2×2 tiles, two k-steps
  expect_matches_cpu(384, 768, 1024, 13);  // 3×3 tiles, 16 k-steps: each stage reused 4 times
}

TEST(Ch07WgmmaGpu, MatchesCpuReferenceAtSizesThatAreNotMultiples) {
  SKIP_UNLESS_SM90();
  expect_matches_cpu(1, 1, 8, 21);         // the smallest product: one row, one column, K = 8
  expect_matches_cpu(129, 257, 72, 22);    // one past the tile in M and N, K = 64 + 8
  expect_matches_cpu(127, 255, 56, 23);    // one short of the tile, K under one k-step
  expect_matches_cpu(131, 263, 200, 24);   // primes in M and N
  expect_matches_cpu(1000, 300, 520, 25);  // many edge tiles
  expect_matches_cpu(64, 8, 8, 26);        // far smaller than a tile in every dimension
}

TEST(Ch07WgmmaGpu, LongKWrapsTheStageRingManyTimes) {
  SKIP_UNLESS_SM90();
  // 64 k-steps over 4 stages: every mbarrier completes 16 phases, so both parities are used.
  expect_matches_cpu(128, 256, 4096, 31);
  expect_matches_cpu(200, 300, 4104, 32);  // and a partial last k-step
}

TEST(Ch07WgmmaGpu, AgreesWithTheNaiveKernelAndCublas) {
  SKIP_UNLESS_SM90();
  using Size = std::array<int, 3>;
  for (const auto& [M, N, K] : {Size{512, 512, 512}, Size{333, 517, 264}, Size{2048, 2048, 1024}}) {
    const Problem p(M, N, K, 41 + static_cast<std::uint64_t>(M));
    const std::vector<float> w = run(Gemm::wgmma, p);
    const std::vector<float> n = run(Gemm::naive, p);
    const std::vector<float> c = run(Gemm::cublas, p);
    const std::string size = std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
    // Each is within `bound` of the exact product, so two of them are within twice it.
    expect_close(w, widen(n), 2 * p.bound, "wgmma vs naive " + size);
    expect_close(w, widen(c), 2 * p.bound, "wgmma vs cuBLAS " + size);
    if (M * N <= 512 * 512) {  // the references themselves, against the CPU
      const std::vector<double> ref = p.reference();
      expect_close(n, ref, p.bound, "naive vs CPU " + size);
      expect_close(c, ref, p.bound, "cuBLAS vs CPU " + size);
    }
  }
}

TEST(Ch07WgmmaGpu, ScalarStoresForOddNOrAMisalignedC) {
  SKIP_UNLESS_SM90();
  // N odd: no float2 stores. N even but C 4-byte (not 8-byte) aligned: none either.
  const Problem odd(130, 255, 64, 51);
  expect_close(run(Gemm::wgmma, odd), odd.reference(), odd.bound, "N = 255");
  const Problem even(130, 258, 64, 52);
  expect_close(run(Gemm::wgmma, even, nullptr, /*misalign=*/1), even.reference(), even.bound,
               "C misaligned by one float");
}

TEST(Ch07WgmmaGpu, RepeatedRunsAreBitwiseIdentical) {
  SKIP_UNLESS_SM90();
  // Same inputs, same order of additions: any difference would be a race.
  const Problem p(640, 768, 1024, 61);
  const std::vector<float> first = run(Gemm::wgmma, p);
  for (int rep = 0; rep < 3; ++rep) {
    const std::vector<float> again = run(Gemm::wgmma, p);
    ASSERT_EQ(std::memcmp(first.data(), again.data(), first.size() * sizeof(float)), 0)
        << "run " << rep + 1 << " differs from the first";
  }
}

TEST(Ch07WgmmaGpu, RunsOnAStream) {
  SKIP_UNLESS_SM90();
  gnm::cuda::Stream stream;
  const Problem p(256, 512, 192, 71);
  expect_close(run(Gemm::wgmma, p, stream.get()), p.reference(), p.bound, "on a stream");
}

TEST(Ch07WgmmaGpu, EmptyProductsAndKZero) {
  SKIP_UNLESS_SM90();
  EXPECT_NO_THROW(gnm::ch07::wgmma_gemm_bf16(nullptr, nullptr, nullptr, 0, 16, 64));
  EXPECT_NO_THROW(gnm::ch07::wgmma_gemm_bf16(nullptr, nullptr, nullptr, 16, 0, 64));
  const Problem p(5, 7, 0, 81);  // K = 0: C is the empty sum, zero
  for (Gemm g : {Gemm::wgmma, Gemm::naive, Gemm::cublas}) {
    for (float v : run(g, p)) ASSERT_EQ(v, 0.0f) << name_of(g);
  }
}

TEST(Ch07WgmmaGpu, RejectsWhatItCannotDoWithAClearError) {
  SKIP_UNLESS_SM90();
  const Problem p(128, 256, 72, 91);
  gnm::cuda::DeviceBuffer<float> d_c(std::size_t(128) * 256);
  // K = 12: rows of 24 bytes cannot all start on 16-byte boundaries (TMA).
  const std::string k = gnm::testing::message_of([&] {
    gnm::ch07::wgmma_gemm_bf16(p.d_a.data(), p.d_b.data(), d_c.data(), 128, 256, 12);
  });
  EXPECT_NE(k.find("multiple of 8"), std::string::npos) << k;
  // A device pointer 2 bytes into the buffer: not 16-byte aligned.
  const std::string a = gnm::testing::message_of([&] {
    gnm::ch07::wgmma_gemm_bf16(p.d_a.data() + 1, p.d_b.data(), d_c.data(), 64, 256, 64);
  });
  EXPECT_NE(a.find("16-byte aligned"), std::string::npos) << a;
  // cuBLAS has no such rule: the anchor handles K = 12 (checked against the CPU).
  const Problem q(33, 45, 12, 92);
  expect_close(run(Gemm::cublas, q), q.reference(), q.bound, "cuBLAS with K = 12");
}

TEST(Ch07WgmmaGpu, OtherDevicesAreRefusedWithNotImplemented) {
  GNM_GPU_TEST_OR_SKIP();
  if (gnm::ch07::wgmma_device_supported()) {
    GTEST_SKIP() << "this is an sm_90 device: nothing to refuse";
  }
  gnm::cuda::DeviceBuffer<bf16> d_a(std::size_t(128) * 64), d_b(std::size_t(256) * 64);
  gnm::cuda::DeviceBuffer<float> d_c(std::size_t(128) * 256);
  EXPECT_THROW(gnm::ch07::wgmma_gemm_bf16(d_a.data(), d_b.data(), d_c.data(), 128, 256, 64),
               gnm::NotImplemented);
}
