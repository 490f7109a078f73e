// The SGEMM ladder's other rungs (1, 2, 4, 6–9; 3 and 5 are exercises, tested in
// test_sgemm_gpu.cu) and the cuBLAS baseline, against a double-precision CPU reference with each
// element's bound from the error model — plus host tests of the ladder's registry, float4 guard,
// error bound and checker (these run everywhere). Linked with the solutions only.
//
// GPU cases: sizes that are no multiple of any tile, float4-friendly sizes with edge tiles, pointers
// offset by one float (the scalar fallback of rungs 6–9), alpha/beta variations, K = 0, a
// NaN-filled C when beta = 0 and a poisoned tail after C. A and B are allocated at their exact
// sizes, so compute-sanitizer memcheck sees any read past them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gpu_test.hpp"
#include "sgemm_ladder.hpp"

namespace {

namespace ladder = gnm::ch06;

using Launch = std::function<void(std::int64_t, std::int64_t, std::int64_t, float, const float*,
                                  const float*, float, float*, cudaStream_t)>;

constexpr float kPoison = -777.0f;
constexpr std::size_t kTail = 64;

// Copies `host` to dst (a device pointer) when there is anything to copy.
void upload(float* dst, const std::vector<float>& host) {
  if (!host.empty()) {
    GNM_CUDA_CHECK(cudaMemcpy(dst, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
  }
}

// C = alpha · A · B + beta · C0 on random data; every element and the tail checked. `offset`
// floats are skipped at the start of each device buffer (offset 1: pointers not 16-byte aligned).
void check_launch(const Launch& launch, std::int64_t M, std::int64_t N, std::int64_t K,
                  float alpha, float beta, std::size_t offset = 0) {
  SCOPED_TRACE("M = " + std::to_string(M) + ", N = " + std::to_string(N) + ", K = " +
               std::to_string(K) + ", alpha = " + std::to_string(alpha) + ", beta = " +
               std::to_string(beta) + ", offset = " + std::to_string(offset));
  const auto seed = static_cast<std::uint64_t>(M * 1000003 + N * 1009 + K);
  std::vector<float> A(static_cast<std::size_t>(M * K)), B(static_cast<std::size_t>(K * N));
  std::vector<float> C(static_cast<std::size_t>(M * N) + kTail, kPoison);
  gnm::fill_uniform(A, seed, -1.0f, 1.0f);
  gnm::fill_uniform(B, seed + 1, -1.0f, 1.0f);
  const std::span<float> body = std::span(C).first(C.size() - kTail);
  if (beta == 0.0f) {
    std::fill(body.begin(), body.end(), std::numeric_limits<float>::quiet_NaN());
  } else {
    gnm::fill_uniform(body, seed + 2, -1.0f, 1.0f);
  }
  const ladder::SgemmReference ref = ladder::sgemm_reference(M, N, K, alpha, A, B, beta, C);

  gnm::cuda::DeviceBuffer<float> dA(std::max<std::size_t>(A.size(), 1) + offset),
      dB(std::max<std::size_t>(B.size(), 1) + offset), dC(C.size() + offset);
  upload(dA.data() + offset, A);
  upload(dB.data() + offset, B);
  upload(dC.data() + offset, C);
  launch(M, N, K, alpha, dA.data() + offset, dB.data() + offset, beta, dC.data() + offset,
         nullptr);
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> out(C.size());
  GNM_CUDA_CHECK(cudaMemcpy(out.data(), dC.data() + offset, out.size() * sizeof(float),
                            cudaMemcpyDeviceToHost));

  const ladder::SgemmCheck check = ladder::check_sgemm(ref, out);
  EXPECT_TRUE(check.ok) << check.report;
  for (std::size_t i = static_cast<std::size_t>(M * N); i < out.size(); ++i) {
    ASSERT_EQ(out[i], kPoison) << "element " << i << " past C's " << M * N << " was written";
  }
}

// A rung by number, or cuBLAS (number 0). make() runs after the device check.
struct Case {
  int number;
  std::string name;
};
// Names the case in test listings (instead of its bytes).
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Launch make_launch(const Case& c) {
  if (c.number == 0) {
    auto cublas = std::make_shared<ladder::CublasSgemm>();
    return [cublas](std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                    const float* B, float beta, float* C, cudaStream_t s) {
      cublas->run(M, N, K, alpha, A, B, beta, C, s);
    };
  }
  return ladder::ladder()[static_cast<std::size_t>(c.number - 1)].launch;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const ladder::Rung& r : ladder::ladder()) {
    if (r.number != 3 && r.number != 5) out.push_back({r.number, r.name});
  }
  out.push_back({0, "cublas"});
  return out;
}

class Ch06LadderGpu : public ::testing::TestWithParam<Case> {};

}  // namespace

// ---- host tests (no GPU needed) ----------------------------------------------------------------

TEST(Ch06LadderHost, RegistryListsTheNineRungsInOrder) {
  const auto rungs = ladder::ladder();
  ASSERT_EQ(rungs.size(), 9u);
  std::set<std::string> names;
  for (std::size_t i = 0; i < rungs.size(); ++i) {
    EXPECT_EQ(rungs[i].number, static_cast<int>(i) + 1);
    EXPECT_NE(rungs[i].config, nullptr);
    EXPECT_NE(rungs[i].launch, nullptr);
    EXPECT_GT(std::string(rungs[i].description).size(), 10u);
    names.insert(rungs[i].name);
  }
  EXPECT_EQ(names.size(), 9u);
}

TEST(Ch06LadderHost, OtherRungsConfigsMatchTheirKernels) {
  // The threads and static shared memory that the kernels of rungs 1, 4 and 6–9 declare.
  EXPECT_EQ(ladder::reg1d_config(64, 64, 8).threads(), 512);
  EXPECT_EQ(ladder::vec4_config(1, 1, 1).smem_bytes, 8192);
  EXPECT_EQ(ladder::conflict_free_config(1, 1, 1).smem_bytes, 8 * 132 * 4 + 8 * 128 * 4);
  EXPECT_EQ(ladder::double_buffer_config(1, 1, 1).smem_bytes, 2 * (8 * 132 + 8 * 128) * 4);
  EXPECT_EQ(ladder::warptile_config(1, 1, 1).smem_bytes, 2 * (16 * 132 + 16 * 128) * 4);
  EXPECT_EQ(ladder::warptile_config(1, 1, 1).threads(), 256);
  EXPECT_EQ(ladder::naive_config(100, 9, 1).grid_x, 4);  // x along M in rung 1
  EXPECT_TRUE(ladder::naive_config(100, 9, 1).grid_x_along_m);
}

TEST(Ch06LadderHost, LaunchLimitsNameTheOffendingValue) {
  ladder::TiledConfig c = ladder::vec4_config(256, 256, 256);
  c.block_x = 33;
  try {
    ladder::check_launch_limits("test", c);
    FAIL() << "33 threads must be rejected";
  } catch (const gnm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cfg.block_x = 33"), std::string::npos) << e.what();
  }
  c = ladder::vec4_config(256, 256, 256);
  c.smem_bytes = 64 * 1024;
  EXPECT_THROW(ladder::check_launch_limits("test", c), gnm::Error);
  EXPECT_THROW(ladder::naive_config(1, 8 * 65536, 1), gnm::Error);  // grid_y 65536
}

TEST(Ch06LadderHost, Float4PathNeedsMultiplesOf4AndAlignedPointers) {
  alignas(16) float buf[8] = {};
  EXPECT_TRUE(ladder::float4_ok(8, 12, buf, buf, buf));
  EXPECT_FALSE(ladder::float4_ok(8, 13, buf, buf, buf));  // a row of A ends mid-float4
  EXPECT_FALSE(ladder::float4_ok(6, 12, buf, buf, buf));  // a row of B and C does
  EXPECT_FALSE(ladder::float4_ok(8, 12, buf + 1, buf, buf));
  EXPECT_FALSE(ladder::float4_ok(8, 12, buf, buf + 2, buf));
  EXPECT_FALSE(ladder::float4_ok(8, 12, buf, buf, buf + 3));
}

TEST(Ch06LadderHost, ErrorBoundFollowsTheModel) {
  const double eps = gnm::kEpsF32;
  // K = 0: only the scaling of C0 rounds.
  EXPECT_DOUBLE_EQ(ladder::sgemm_error_bound(0, 1.0f, 0.5f, 0.0, 2.0), 2 * eps * 1.0);
  // beta = 0: C0 is not read, even when it is NaN.
  EXPECT_DOUBLE_EQ(ladder::sgemm_error_bound(4, 1.0f, 0.0f, 3.0,
                                             std::numeric_limits<double>::quiet_NaN()),
                   3.0 * eps * (4 * 2 + 2));
  // The product term grows as √K and scales with |alpha|.
  const double k1 = ladder::sgemm_error_bound(1024, 1.0f, 0.0f, 1.0, 0.0);
  const double k4 = ladder::sgemm_error_bound(4096, -2.0f, 0.0f, 1.0, 0.0);
  EXPECT_NEAR(k4 / k1, 2.0 * (4 * 64 + 2) / (4 * 32 + 2), 1e-12);
}

TEST(Ch06LadderHost, CheckerCatchesAMissingKTileAndNaN) {
  // A random 6 × 7 × 4096 product: the exact result passes; dropping the last 8 terms of one
  // element (a lost K tile) or a NaN fails, and the report names the element.
  const std::int64_t M = 6, N = 7, K = 4096;
  std::vector<float> A(M * K), B(K * N);
  gnm::fill_uniform(A, 11, -1.0f, 1.0f);
  gnm::fill_uniform(B, 12, -1.0f, 1.0f);
  const ladder::SgemmReference ref = ladder::sgemm_reference(M, N, K, 1.0f, A, B, 0.0f, {});
  std::vector<float> C(ref.value.begin(), ref.value.end());
  EXPECT_TRUE(ladder::check_sgemm(ref, C).ok);
  double lost = 0;
  for (std::int64_t k = K - 8; k < K; ++k) {
    lost += static_cast<double>(A[3 * K + k]) * static_cast<double>(B[k * N + 5]);
  }
  std::vector<float> bad = C;
  bad[3 * N + 5] = static_cast<float>(ref.value[3 * N + 5] - lost);
  const ladder::SgemmCheck check = ladder::check_sgemm(ref, bad);
  EXPECT_FALSE(check.ok) << "lost " << lost << ", bound " << ref.bound[3 * N + 5];
  EXPECT_EQ(check.mismatches, 1);
  EXPECT_NE(check.report.find("C[3, 5]"), std::string::npos) << check.report;
  bad = C;
  bad[2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(ladder::check_sgemm(ref, bad).ok);
}

TEST(Ch06LadderHost, ReferenceCoversChosenRowsAndRejectsBadOnes) {
  std::vector<float> A(5 * 3, 1.0f), B(3 * 4, 2.0f), C0(5 * 4, 1.0f);
  const std::vector<std::int64_t> rows = {1, 4};
  const ladder::SgemmReference ref = ladder::sgemm_reference(5, 4, 3, 0.5f, A, B, 2.0f, C0, rows);
  ASSERT_EQ(ref.value.size(), 8u);
  for (double v : ref.value) EXPECT_DOUBLE_EQ(v, 0.5 * 6.0 + 2.0);
  const std::vector<std::int64_t> unordered = {3, 1};
  EXPECT_THROW(ladder::sgemm_reference(5, 4, 3, 1.0f, A, B, 0.0f, {}, unordered), gnm::ShapeError);
  const std::vector<std::int64_t> outside = {5};
  EXPECT_THROW(ladder::sgemm_reference(5, 4, 3, 1.0f, A, B, 0.0f, {}, outside), gnm::ShapeError);
  EXPECT_THROW(ladder::sgemm_reference(5, 4, 4, 1.0f, A, B, 0.0f, {}), gnm::ShapeError);
}

// ---- GPU tests --------------------------------------------------------------------------------

TEST_P(Ch06LadderGpu, MatchesTheReferenceOnOddSizes) {
  GNM_GPU_TEST_OR_SKIP();
  const Launch f = make_launch(GetParam());
  const std::int64_t sizes[][3] = {{1, 1, 1},      {1, 77, 1},      {77, 1, 1},   {1, 1, 300},
                                   {2, 3, 4},      {17, 31, 13},    {33, 65, 9},  {127, 129, 65},
                                   {128, 128, 128}, {129, 127, 257}, {64, 256, 8}, {300, 5, 700},
                                   {5, 300, 7},    {256, 256, 256}};
  for (const auto& s : sizes) check_launch(f, s[0], s[1], s[2], 1.0f, 0.0f);
}

TEST_P(Ch06LadderGpu, Float4SizesWithEdgeTilesAndTheScalarFallback) {
  GNM_GPU_TEST_OR_SKIP();
  const Launch f = make_launch(GetParam());
  // K and N multiples of 4 (rungs 6–9 take float4 loads) but no multiple of the tiles.
  const std::int64_t sizes[][3] = {{131, 260, 36}, {37, 132, 12}, {200, 4, 20}, {3, 388, 100}};
  for (const auto& s : sizes) {
    check_launch(f, s[0], s[1], s[2], 1.0f, 0.0f);
    check_launch(f, s[0], s[1], s[2], 1.0f, 0.0f, /*offset=*/1);  // unaligned: scalar path
  }
}

TEST_P(Ch06LadderGpu, AppliesAlphaAndBeta) {
  GNM_GPU_TEST_OR_SKIP();
  const Launch f = make_launch(GetParam());
  for (const auto& [alpha, beta] : {std::pair{-1.5f, 0.75f}, std::pair{1.0f, 1.0f},
                                    std::pair{0.0f, -2.0f}, std::pair{2.0f, 0.0f}}) {
    check_launch(f, 45, 70, 33, alpha, beta);
    check_launch(f, 132, 136, 40, alpha, beta);  // float4 path
  }
}

TEST_P(Ch06LadderGpu, KZeroScalesCByBeta) {
  GNM_GPU_TEST_OR_SKIP();
  const Launch f = make_launch(GetParam());
  check_launch(f, 37, 41, 0, 1.0f, 0.5f);
  check_launch(f, 37, 41, 0, 1.0f, 0.0f);  // C = 0 over a NaN-filled C
  check_launch(f, 8, 8, 0, 1.0f, 0.25f);
}

TEST_P(Ch06LadderGpu, EmptyProblemsLaunchNothingAndBadArgumentsThrow) {
  GNM_GPU_TEST_OR_SKIP();
  const Launch f = make_launch(GetParam());
  EXPECT_NO_THROW(f(0, 5, 5, 1.0f, nullptr, nullptr, 0.0f, nullptr, nullptr));
  EXPECT_NO_THROW(f(5, 0, 5, 1.0f, nullptr, nullptr, 0.0f, nullptr, nullptr));
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  gnm::cuda::DeviceBuffer<float> d(16);
  EXPECT_THROW(f(-1, 4, 4, 1.0f, d.data(), d.data(), 0.0f, d.data(), nullptr), gnm::ShapeError);
  EXPECT_THROW(f(4, 4, 1, 1.0f, nullptr, d.data(), 0.0f, d.data(), nullptr), gnm::Error);
}

INSTANTIATE_TEST_SUITE_P(Ch06, Ch06LadderGpu, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return param_info.param.name;
                         });
