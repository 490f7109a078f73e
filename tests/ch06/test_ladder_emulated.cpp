// The SGEMM ladder's other rungs (1, 2, 4, 6–9; the exercise rungs 3 and 5 are in
// test_sgemm_emulated.cpp) on the CPU: the kernel text of solutions/ch06/sgemm_ladder_kernels.cuh
// compiled by g++ and run by the host emulator, launched as sgemm_ladder.cu launches it (same
// configuration functions, same float4_ok choice), against the double-precision reference (see
// sgemm_emulation.hpp for the checks and the error model). Negative controls at the end show that
// the harness catches a write past C, a read of C when beta == 0 and a lost product.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "cuda_host_emulator.hpp"
#include "sgemm_ladder_kernels.cuh"  // solutions/ch06: the text nvcc compiles
#include "sgemm_emulation.hpp"

namespace {

namespace ch06 = gnm::ch06;
namespace em = gnm::ch06::emulated;
using ch06::TiledConfig;

// The launchers of sgemm_ladder.cu with `launch` → em::emu_run (no stream, no launch check).

void emu_naive(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
               const float* B, float beta, float* C) {
  ch06::check_sgemm_args("naive", M, N, K, A, B, C);
  const TiledConfig cfg = ch06::naive_config(M, N, K);
  if (cfg.empty()) return;
  em::emu_run(&ch06::sgemm_naive_kernel, cfg, M, N, K, alpha, A, B, beta, C);
}

void emu_coalesced(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                   const float* B, float beta, float* C) {
  ch06::check_sgemm_args("coalesced", M, N, K, A, B, C);
  const TiledConfig cfg = ch06::coalesced_config(M, N, K);
  if (cfg.empty()) return;
  em::emu_run(&ch06::sgemm_coalesced_kernel, cfg, M, N, K, alpha, A, B, beta, C);
}

void emu_reg1d(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
               const float* B, float beta, float* C) {
  ch06::check_sgemm_args("reg1d", M, N, K, A, B, C);
  const TiledConfig cfg = ch06::reg1d_config(M, N, K);
  if (cfg.empty()) return;
  em::emu_run(&ch06::sgemm_reg1d_kernel<ch06::kReg1dBM, ch06::kReg1dBN, ch06::kReg1dBK,
                                        ch06::kReg1dTM>,
              cfg, M, N, K, alpha, A, B, beta, C);
}

void emu_vec4(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
              const float* B, float beta, float* C) {
  ch06::check_sgemm_args("vec4", M, N, K, A, B, C);
  const TiledConfig cfg = ch06::vec4_config(M, N, K);
  if (cfg.empty()) return;
  em::emu_run(ch06::float4_ok(N, K, A, B, C)
                  ? &ch06::sgemm_vec4_kernel<ch06::kVecBM, ch06::kVecBN, ch06::kVecBK, true>
                  : &ch06::sgemm_vec4_kernel<ch06::kVecBM, ch06::kVecBN, ch06::kVecBK, false>,
              cfg, M, N, K, alpha, A, B, beta, C);
}

void emu_conflict_free(std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                       const float* A, const float* B, float beta, float* C) {
  ch06::check_sgemm_args("conflict_free", M, N, K, A, B, C);
  const TiledConfig cfg = ch06::conflict_free_config(M, N, K);
  if (cfg.empty()) return;
  em::emu_run(
      ch06::float4_ok(N, K, A, B, C)
          ? &ch06::sgemm_conflict_free_kernel<ch06::kVecBM, ch06::kVecBN, ch06::kVecBK, true>
          : &ch06::sgemm_conflict_free_kernel<ch06::kVecBM, ch06::kVecBN, ch06::kVecBK, false>,
      cfg, M, N, K, alpha, A, B, beta, C);
}

void emu_double_buffer(std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                       const float* A, const float* B, float beta, float* C) {
  ch06::check_sgemm_args("double_buffer", M, N, K, A, B, C);
  const TiledConfig cfg = ch06::double_buffer_config(M, N, K);
  if (cfg.empty()) return;
  em::emu_run(
      ch06::float4_ok(N, K, A, B, C)
          ? &ch06::sgemm_double_buffer_kernel<ch06::kVecBM, ch06::kVecBN, ch06::kVecBK, true>
          : &ch06::sgemm_double_buffer_kernel<ch06::kVecBM, ch06::kVecBN, ch06::kVecBK, false>,
      cfg, M, N, K, alpha, A, B, beta, C);
}

void emu_warptile(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                  const float* B, float beta, float* C) {
  ch06::check_sgemm_args("warptile", M, N, K, A, B, C);
  const TiledConfig cfg = ch06::warptile_config(M, N, K);
  if (cfg.empty()) return;
  em::emu_run(ch06::float4_ok(N, K, A, B, C)
                  ? &ch06::sgemm_warptile_kernel<ch06::kWarpBM, ch06::kWarpBN, ch06::kWarpBK,
                                                 ch06::kWarpWM, ch06::kWarpWN, true>
                  : &ch06::sgemm_warptile_kernel<ch06::kWarpBM, ch06::kWarpBN, ch06::kWarpBK,
                                                 ch06::kWarpWM, ch06::kWarpWN, false>,
              cfg, M, N, K, alpha, A, B, beta, C);
}

TEST(LadderEmulated, Rung1Naive) { em::expect_every_case("naive", &emu_naive); }
TEST(LadderEmulated, Rung2Coalesced) { em::expect_every_case("coalesced", &emu_coalesced); }
TEST(LadderEmulated, Rung4Reg1d) { em::expect_every_case("reg1d", &emu_reg1d); }

// Rungs 6–9 have two kernel instances each: the cases must reach both.
void expect_both_paths(const char* rung, em::Launcher launch) {
  const int float4 = em::expect_every_case(rung, launch);
  const int all = static_cast<int>(em::cases().size());
  EXPECT_GT(float4, 0) << rung << ": no case took the float4 path";
  EXPECT_LT(float4, all) << rung << ": no case took the scalar path";
}

TEST(LadderEmulated, Rung6Vec4) { expect_both_paths("vec4", &emu_vec4); }
TEST(LadderEmulated, Rung7ConflictFree) { expect_both_paths("conflict_free", &emu_conflict_free); }
TEST(LadderEmulated, Rung8DoubleBuffer) { expect_both_paths("double_buffer", &emu_double_buffer); }
TEST(LadderEmulated, Rung9Warptile) { expect_both_paths("warptile", &emu_warptile); }

// ---- negative controls ------------------------------------------------------------------------

// Rung 4's kernel with one realistic bug each (kBug = 0: none, the real text).
//   1: the store's row bound is off by one (m <= M): the rows past M of the last block row store
//      their (zero-padded) results into C[M, 0 … N − 1], past C's end — the tail guard's job.
//   2: beta == 0 still reads C (alpha · acc + beta · C[i]): 0 · NaN is NaN — the NaN poison's job.
//   3: the inner loop skips the last k of each K step: one product lost per step, ≈ 0.25 against
//      a bound near 1e-5 — the reference's job. (An off-by-one in a LOAD bound would not show in
//      the values: the element read past the edge meets the other operand's zero padding. Only
//      AddressSanitizer, which the asan preset runs here, or compute-sanitizer sees that read.)
template <int kBug>
__global__ void buggy_reg1d_kernel(int M, int N, int K, float alpha, const float* __restrict__ A,
                                   const float* __restrict__ B, float beta, float* __restrict__ C) {
  constexpr int BM = ch06::kReg1dBM, BN = ch06::kReg1dBN, BK = ch06::kReg1dBK,
                TM = ch06::kReg1dTM;
  constexpr int kThreads = (BM / TM) * BN;
  __shared__ float As[BM][BK];
  __shared__ float Bs[BK][BN];
  const int tid = static_cast<int>(threadIdx.x);
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  const int col = tid % BN;
  const int row0 = (tid / BN) * TM;
  float acc[TM] = {};
  for (int k0 = 0; k0 < K; k0 += BK) {
    ch06::load_tile<BM, BK, kThreads>(As, A, M, K, m0, k0);
    ch06::load_tile<BK, BN, kThreads>(Bs, B, K, N, k0, n0);
    __syncthreads();
    for (int k = 0; k < (kBug == 3 ? BK - 1 : BK); ++k) {
      const float b = Bs[k][col];
      for (int i = 0; i < TM; ++i) acc[i] += As[row0 + i][k] * b;
    }
    __syncthreads();
  }
  for (int i = 0; i < TM; ++i) {
    const int m = m0 + row0 + i, n = n0 + col;
    if ((kBug == 1 ? m <= M : m < M) && n < N) {
      const long long at = static_cast<long long>(m) * N + n;
      C[at] = (kBug == 2 || beta != 0.0f) ? alpha * acc[i] + beta * C[at] : alpha * acc[i];
    }
  }
}

template <int kBug>
void emu_buggy_reg1d(std::int64_t M, std::int64_t N, std::int64_t K, float alpha, const float* A,
                     const float* B, float beta, float* C) {
  em::emu_run(&buggy_reg1d_kernel<kBug>, ch06::reg1d_config(M, N, K), M, N, K, alpha, A, B, beta,
              C);
}

// 67 rows: the last block row (64 … 127) hangs over M; K = 40: five full K steps of 8.
const em::Case kControl{67, 37, 40};

TEST(LadderEmulated, NegativeControlsAreCaught) {
  const em::Outcome faithful = em::run_case(&emu_buggy_reg1d<0>, kControl);
  EXPECT_TRUE(faithful.ok) << "the bug-free copy must pass: " << faithful.report;
  const em::Outcome past_end = em::run_case(&emu_buggy_reg1d<1>, kControl);
  EXPECT_FALSE(past_end.ok) << "missed the write past C";
  EXPECT_NE(past_end.report.find("guard floats written outside C, the first at C[" +
                                 std::to_string(kControl.M * kControl.N) + "]"),
            std::string::npos)
      << past_end.report;
  const em::Outcome reads_c = em::run_case(&emu_buggy_reg1d<2>, kControl);
  EXPECT_FALSE(reads_c.ok) << "missed the read of C with beta == 0";
  em::Case with_beta = kControl;
  with_beta.beta = 0.5f;  // with beta != 0 the same code is right: the NaN poison is the test
  EXPECT_TRUE(em::run_case(&emu_buggy_reg1d<2>, with_beta).ok);
  const em::Outcome lost = em::run_case(&emu_buggy_reg1d<3>, kControl);
  EXPECT_FALSE(lost.ok) << "missed a lost product per K step";
  EXPECT_NE(lost.report.find("MISMATCH"), std::string::npos) << lost.report;
}

}  // namespace
