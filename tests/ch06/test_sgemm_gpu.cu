// Exercises 6.1 and 6.2 on the GPU: the shared-memory tiled SGEMM (sgemm_tiled) and the 2-D
// register-tiled one (sgemm_reg2d) against a double-precision CPU reference with each element's
// bound from the error model (Note [SGEMM error bound] in sgemm_ladder.hpp), on sizes that are no
// multiple of any tile, with alpha/beta variations, a NaN-filled C when beta = 0 (C must not be
// read) and a poisoned tail after C (nothing past M·N may be written). A and B are allocated at
// their exact sizes, so compute-sanitizer memcheck sees any read past them.
// GPU tests: they skip without a device (and fail under GNM_REQUIRE_GPU=1).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gnm/core/error.hpp"
#include "gnm/core/random.hpp"
#include "gnm/cuda/buffer.hpp"
#include "gnm/cuda/check.hpp"
#include "gpu_test.hpp"
#include "sgemm_ladder.hpp"

namespace {

using Launcher = void (*)(std::int64_t, std::int64_t, std::int64_t, float, const float*,
                          const float*, float, float*, cudaStream_t);

constexpr float kPoison = -777.0f;
constexpr std::size_t kTail = 64;

// C = alpha · A · B + beta · C0 with `launch` on random data; every element and the tail checked.
void check_launch(Launcher launch, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                  float beta) {
  SCOPED_TRACE("M = " + std::to_string(M) + ", N = " + std::to_string(N) + ", K = " +
               std::to_string(K) + ", alpha = " + std::to_string(alpha) + ", beta = " +
               std::to_string(beta));
  const auto seed = static_cast<std::uint64_t>(M * 1000003 + N * 1009 + K);
  std::vector<float> A(static_cast<std::size_t>(M * K)), B(static_cast<std::size_t>(K * N));
  std::vector<float> C(static_cast<std::size_t>(M * N) + kTail, kPoison);
  gnm::fill_uniform(A, seed, -1.0f, 1.0f);
  gnm::fill_uniform(B, seed + 1, -1.0f, 1.0f);
  if (beta == 0.0f) {
    std::fill(C.begin(), C.end() - kTail, std::numeric_limits<float>::quiet_NaN());
  } else {
    gnm::fill_uniform(std::span(C).first(C.size() - kTail), seed + 2, -1.0f, 1.0f);
  }
  const gnm::ch06::SgemmReference ref =
      gnm::ch06::sgemm_reference(M, N, K, alpha, A, B, beta, C);

  // Exact sizes (1 float for an empty matrix, which no kernel may read).
  gnm::cuda::DeviceBuffer<float> dA(std::max<std::size_t>(A.size(), 1)),
      dB(std::max<std::size_t>(B.size(), 1)), dC(C.size());
  if (!A.empty()) GNM_CUDA_CHECK(cudaMemcpy(dA.data(), A.data(), A.size() * 4, cudaMemcpyHostToDevice));
  if (!B.empty()) GNM_CUDA_CHECK(cudaMemcpy(dB.data(), B.data(), B.size() * 4, cudaMemcpyHostToDevice));
  dC.copy_from_host(C);
  launch(M, N, K, alpha, dA.data(), dB.data(), beta, dC.data(), nullptr);
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> out(C.size());
  dC.copy_to_host(out);

  const gnm::ch06::SgemmCheck check = gnm::ch06::check_sgemm(ref, out);
  EXPECT_TRUE(check.ok) << check.report;
  for (std::size_t i = static_cast<std::size_t>(M * N); i < out.size(); ++i) {
    ASSERT_EQ(out[i], kPoison) << "element " << i << " past C's " << M * N << " was written";
  }
}

struct Exercise {
  const char* name;
  Launcher launch;
};
// Names the case in test listings (instead of its bytes).
void PrintTo(const Exercise& e, std::ostream* os) { *os << e.name; }

class Ch06SgemmExerciseGpu : public ::testing::TestWithParam<Exercise> {};

}  // namespace

TEST_P(Ch06SgemmExerciseGpu, MatchesTheReferenceOnOddSizes) {
  GNM_GPU_TEST_OR_SKIP();
  const Launcher f = GetParam().launch;
  const std::int64_t sizes[][3] = {{1, 1, 1},     {1, 77, 1},      {77, 1, 1},    {1, 1, 300},
                                   {2, 3, 4},     {17, 31, 13},    {33, 65, 9},   {127, 129, 65},
                                   {128, 128, 128}, {129, 127, 257}, {64, 256, 8},  {300, 5, 700},
                                   {5, 300, 7},   {131, 260, 36},  {256, 256, 256}};
  for (const auto& s : sizes) check_launch(f, s[0], s[1], s[2], 1.0f, 0.0f);
}

TEST_P(Ch06SgemmExerciseGpu, AppliesAlphaAndBeta) {
  GNM_GPU_TEST_OR_SKIP();
  const Launcher f = GetParam().launch;
  for (const auto& [alpha, beta] : {std::pair{-1.5f, 0.75f}, std::pair{1.0f, 1.0f},
                                    std::pair{0.0f, -2.0f}, std::pair{2.0f, 0.0f}}) {
    check_launch(f, 45, 70, 33, alpha, beta);
    check_launch(f, 130, 129, 17, alpha, beta);
  }
}

TEST_P(Ch06SgemmExerciseGpu, KZeroScalesCByBeta) {
  GNM_GPU_TEST_OR_SKIP();
  check_launch(GetParam().launch, 37, 41, 0, 1.0f, 0.5f);
  check_launch(GetParam().launch, 37, 41, 0, 1.0f, 0.0f);  // C = 0 over a NaN-filled C
}

TEST_P(Ch06SgemmExerciseGpu, EmptyProblemsLaunchNothingAndBadArgumentsThrow) {
  GNM_GPU_TEST_OR_SKIP();
  const Launcher f = GetParam().launch;
  try {
    f(0, 5, 5, 1.0f, nullptr, nullptr, 0.0f, nullptr, nullptr);
    f(5, 0, 5, 1.0f, nullptr, nullptr, 0.0f, nullptr, nullptr);
  } catch (const gnm::Error& e) {
    FAIL() << "an empty problem must return quietly: " << e.what();
  }
  GNM_CUDA_CHECK(cudaDeviceSynchronize());
  gnm::cuda::DeviceBuffer<float> d(16);
  EXPECT_THROW(f(-1, 4, 4, 1.0f, d.data(), d.data(), 0.0f, d.data(), nullptr), gnm::ShapeError);
  try {
    f(4, 4, 1, 1.0f, nullptr, d.data(), 0.0f, d.data(), nullptr);
    ADD_FAILURE() << "a null A with M·K > 0 must throw";
  } catch (const gnm::NotImplemented& e) {
    FAIL() << "exercise not written yet: " << e.what();
  } catch (const gnm::Error&) {
  }
}

INSTANTIATE_TEST_SUITE_P(Ch06, Ch06SgemmExerciseGpu,
                         ::testing::Values(Exercise{"tiled", &gnm::ch06::sgemm_tiled},
                                           Exercise{"reg2d", &gnm::ch06::sgemm_reg2d}),
                         [](const ::testing::TestParamInfo<Exercise>& param_info) {
                           return std::string(param_info.param.name);
                         });
