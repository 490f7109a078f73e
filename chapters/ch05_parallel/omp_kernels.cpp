// Section 5.1, OpenMP versions (see omp_kernels.hpp). Everything OpenMP-specific in chapter 5 is
// in this file, so the rest of the program builds the same with or without it.
#include "omp_kernels.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "gemm_ladder.hpp"
#include "gnm/core/aligned_buffer.hpp"
#include "gnm/core/error.hpp"
#include "gnm/core/timer.hpp"
#include "parallel_sum.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace chapter5 {

#ifdef _OPENMP

bool have_openmp() { return true; }

std::string openmp_version() {
  const int v = _OPENMP;  // yyyymm of the specification the compiler implements
  const char* name = v >= 202011 ? "5.1" : v >= 201811 ? "5.0" : v >= 201511 ? "4.5" : "< 4.5";
  return std::string("OpenMP ") + name + " (" + std::to_string(v) + ")";
}

//! [omp_fixed_blocks]
float omp_sum_fixed_blocks(std::span<const float> x, int threads) {
  using namespace gnm::ch05;
  const std::size_t n = x.size();
  const auto blocks = static_cast<std::int64_t>((n + kSumBlock - 1) / kSumBlock);
  std::vector<float> partials(static_cast<std::size_t>(blocks));
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::size_t start = static_cast<std::size_t>(b) * kSumBlock;
    partials[static_cast<std::size_t>(b)] =
        block_sum(x.subspan(start, std::min(kSumBlock, n - start)), start);
  }
  return pairwise_combine(partials);
}
//! [omp_fixed_blocks]

//! [omp_reduction]
float omp_sum_reduction(std::span<const float> x, int threads) {
  const float* p = x.data();
  const auto n = static_cast<std::int64_t>(x.size());
  float s = 0.0f;
  // `simd` allows the compiler to reorder the additions inside a thread (vector lanes), and
  // `reduction` combines the threads' partials: both orders are OpenMP's choice, not ours.
#pragma omp parallel for simd reduction(+ : s) schedule(static) num_threads(threads)
  for (std::int64_t i = 0; i < n; ++i) s += p[i];
  return s;
}
//! [omp_reduction]

namespace {

// C[0:mc, 0:nc] += packed A · packed B, tile by tile: chapter 2's macro-kernel (anonymous there).
void macro_kernel(std::int64_t mc, std::int64_t nc, std::int64_t kc, const float* packed_a,
                  const float* packed_b, float* C, std::int64_t ldc) {
  using namespace gnm::ch02;
  for (std::int64_t j = 0; j < nc; j += kNR) {
    for (std::int64_t i = 0; i < mc; i += kMR) {
      micro_kernel_6x16(kc, packed_a + i * kc, packed_b + j * kc, C + i * ldc + j, ldc,
                        std::min(kMR, mc - i), std::min(kNR, nc - j));
    }
  }
}

std::int64_t round_up(std::int64_t x, std::int64_t m) { return (x + m - 1) / m * m; }

}  // namespace

//! [omp_sgemm]
void omp_sgemm(std::int64_t M, std::int64_t N, std::int64_t K, const float* A, std::int64_t lda,
               const float* B, std::int64_t ldb, float* C, std::int64_t ldc, int threads) {
  using namespace gnm::ch02;
  if (M <= 0 || N <= 0 || K <= 0) return;
  gnm::AlignedBuffer<float> packed_b(static_cast<std::size_t>(kKC * round_up(std::min(kNC, N), kNR)));
  // Row blocks as in sgemm_threaded: a multiple of the thread count, at most kMC rows each.
  const std::int64_t rounds = (M + kMC * threads - 1) / (kMC * threads);
  const std::int64_t mc_max = round_up((M + rounds * threads - 1) / (rounds * threads), kMR);
  const std::int64_t row_blocks = (M + mc_max - 1) / mc_max;
  for (std::int64_t j0 = 0; j0 < N; j0 += kNC) {
    const std::int64_t nc = std::min(kNC, N - j0);
    for (std::int64_t p0 = 0; p0 < K; p0 += kKC) {
      const std::int64_t kc = std::min(kKC, K - p0);
      pack_b(kc, nc, B + p0 * ldb + j0, ldb, packed_b.data());
#pragma omp parallel num_threads(threads)
      {
        gnm::AlignedBuffer<float> packed_a(static_cast<std::size_t>(mc_max * kc));  // per thread
        // The implicit barrier at the end of `omp for` plays the role of parallel_for's return:
        // no thread packs the next B panel while another still reads this one.
#pragma omp for schedule(dynamic, 1)
        for (std::int64_t b = 0; b < row_blocks; ++b) {
          const std::int64_t i0 = b * mc_max;
          const std::int64_t mc = std::min(mc_max, M - i0);
          pack_a(mc, kc, A + i0 * lda + p0, lda, packed_a.data());
          macro_kernel(mc, nc, kc, packed_a.data(), packed_b.data(), C + i0 * ldc + j0, ldc);
        }
      }
    }
  }
}
//! [omp_sgemm]

double omp_fork_join_us(int threads, int repeat) {
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(repeat));
  int sink = 0;
  for (int r = 0; r < repeat; ++r) {
    gnm::HostTimer t;
#pragma omp parallel for num_threads(threads) reduction(+ : sink)
    for (int i = 0; i < threads; ++i) sink += i;
    samples.push_back(t.elapsed_ms() * 1e3);
  }
  if (sink < 0) samples.push_back(0);  // keeps the loop from being optimised away
  return gnm::summarize(samples).median_ms;
}

#else  // built without OpenMP

namespace {
[[noreturn]] void no_openmp() {
  throw gnm::NotImplemented("chapter 5 was built without OpenMP (CMake found none, or the build "
                            "uses ThreadSanitizer)");
}
}  // namespace

bool have_openmp() { return false; }
std::string openmp_version() { return "not built with OpenMP"; }
float omp_sum_fixed_blocks(std::span<const float>, int) { no_openmp(); }
float omp_sum_reduction(std::span<const float>, int) { no_openmp(); }
void omp_sgemm(std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t, const float*,
               std::int64_t, float*, std::int64_t, int) {
  no_openmp();
}
double omp_fork_join_us(int, int) { no_openmp(); }

#endif

}  // namespace chapter5
