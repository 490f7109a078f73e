// The host half of the SGEMM ladder (chapter 6.2): launch configurations, argument checks, the
// rung registry and the error model the checks use. Everything here is plain C++ that runs and is
// tested on a machine without a GPU; the kernels and launchers are in sgemm_ladder.cu.
#include "sgemm_ladder.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "gnm/core/check.hpp"
#include "gnm/core/verify.hpp"
#include "gnm/cpu/gemm.hpp"

namespace gnm::ch06 {

void check_sgemm_sizes(const char* rung, std::int64_t M, std::int64_t N, std::int64_t K) {
  GNM_CHECK_SHAPE(M >= 0 && N >= 0 && K >= 0, "SGEMM sizes cannot be negative", rung, M, N, K);
  GNM_CHECK_SHAPE(M <= kMaxGemmDim && N <= kMaxGemmDim && K <= kMaxGemmDim,
                  "SGEMM size above the ladder's limit", rung, M, N, K, kMaxGemmDim);
}

void check_sgemm_args(const char* rung, std::int64_t M, std::int64_t N, std::int64_t K,
                      const float* A, const float* B, const float* C) {
  check_sgemm_sizes(rung, M, N, K);
  GNM_CHECK(A != nullptr || M == 0 || K == 0, "A is null but has M·K elements", rung, M, K);
  GNM_CHECK(B != nullptr || K == 0 || N == 0, "B is null but has K·N elements", rung, K, N);
  GNM_CHECK(C != nullptr || M == 0 || N == 0, "C is null but has M·N elements", rung, M, N);
}

void check_launch_limits(const char* rung, const TiledConfig& cfg) {
  const int threads = cfg.threads();
  GNM_CHECK(cfg.grid_x >= 0 && cfg.grid_x <= kMaxGridX, "grid too wide for the hardware", rung,
            cfg.grid_x, kMaxGridX);
  GNM_CHECK(cfg.grid_y >= 0 && cfg.grid_y <= kMaxGridY,
            "grid too tall for the hardware (a size is too large for this rung)", rung, cfg.grid_y,
            kMaxGridY);
  GNM_CHECK(cfg.block_x >= 1 && cfg.block_y >= 1 && threads <= kMaxThreadsPerBlock &&
                threads % 32 == 0,
            "threads per block must be a multiple of 32 in [32, 1024]", rung, cfg.block_x,
            cfg.block_y);
  GNM_CHECK(cfg.smem_bytes >= 0 && cfg.smem_bytes <= kMaxStaticSmemBytes,
            "more static shared memory than a block may have", rung, cfg.smem_bytes,
            kMaxStaticSmemBytes);
}

namespace {

constexpr std::int64_t kF = static_cast<std::int64_t>(sizeof(float));

// The configuration of a rung whose blocks are 1-D, with blockIdx.x along N and blockIdx.y
// along M, each block computing a tile_m × tile_n tile of C, each thread thread_m × thread_n.
TiledConfig one_d_config(const char* rung, std::int64_t M, std::int64_t N, std::int64_t K,
                         int tile_m, int tile_n, int tile_k, int thread_m, int thread_n,
                         std::int64_t smem_bytes) {
  check_sgemm_sizes(rung, M, N, K);
  TiledConfig c;
  c.tile_m = tile_m;
  c.tile_n = tile_n;
  c.tile_k = tile_k;
  c.thread_m = thread_m;
  c.thread_n = thread_n;
  c.block_x = (tile_m / thread_m) * (tile_n / thread_n);
  c.block_y = 1;
  c.grid_x = ceil_div(N, tile_n);
  c.grid_y = ceil_div(M, tile_m);
  c.smem_bytes = smem_bytes;
  check_launch_limits(rung, c);
  return c;
}

}  // namespace

TiledConfig naive_config(std::int64_t M, std::int64_t N, std::int64_t K) {
  check_sgemm_sizes("naive", M, N, K);
  TiledConfig c;
  c.block_x = kSimpleBlockX;  // along M: the point of this rung is that this is the wrong axis
  c.block_y = kSimpleBlockY;
  c.tile_m = kSimpleBlockX;
  c.tile_n = kSimpleBlockY;
  c.grid_x = ceil_div(M, kSimpleBlockX);
  c.grid_y = ceil_div(N, kSimpleBlockY);
  c.grid_x_along_m = true;
  check_launch_limits("naive", c);
  return c;
}

TiledConfig coalesced_config(std::int64_t M, std::int64_t N, std::int64_t K) {
  check_sgemm_sizes("coalesced", M, N, K);
  TiledConfig c;
  c.block_x = kSimpleBlockX;  // along N: a warp covers 32 consecutive columns
  c.block_y = kSimpleBlockY;
  c.tile_m = kSimpleBlockY;
  c.tile_n = kSimpleBlockX;
  c.grid_x = ceil_div(N, kSimpleBlockX);
  c.grid_y = ceil_div(M, kSimpleBlockY);
  check_launch_limits("coalesced", c);
  return c;
}

//! [tiled_config]
TiledConfig tiled_config(std::int64_t M, std::int64_t N, std::int64_t K) {
  // BEGIN SOLUTION("ex 6.1", "check_sgemm_sizes; a kTiledTile × kTiledTile block (x along N, y along M) per kTiledTile × kTiledTile tile of C: grid_x = ceil_div(N, kTiledTile), grid_y = ceil_div(M, kTiledTile); tile_k = kTiledTile; smem for one tile of A and one of B; then check_launch_limits")
  check_sgemm_sizes("tiled", M, N, K);
  TiledConfig c;
  c.block_x = kTiledTile;  // threadIdx.x → column of C, so a warp reads a row of the B tile
  c.block_y = kTiledTile;
  c.tile_m = c.tile_n = c.tile_k = kTiledTile;
  c.grid_x = ceil_div(N, kTiledTile);
  c.grid_y = ceil_div(M, kTiledTile);
  c.smem_bytes = 2 * kTiledTile * kTiledTile * kF;  // As and Bs
  check_launch_limits("tiled", c);
  return c;
  // END SOLUTION
}
//! [tiled_config]

TiledConfig reg1d_config(std::int64_t M, std::int64_t N, std::int64_t K) {
  return one_d_config("reg1d", M, N, K, kReg1dBM, kReg1dBN, kReg1dBK, kReg1dTM, 1,
                      (kReg1dBM * kReg1dBK + kReg1dBK * kReg1dBN) * kF);
}

TiledConfig reg2d_config(std::int64_t M, std::int64_t N, std::int64_t K) {
  // BEGIN SOLUTION("ex 6.2", "check_sgemm_sizes; one 1-D block of (kReg2dBM / kReg2dTM) · (kReg2dBN / kReg2dTN) threads per kReg2dBM × kReg2dBN tile of C (grid_x = ceil_div(N, kReg2dBN), grid_y = ceil_div(M, kReg2dBM)); thread_m/thread_n = kReg2dTM/kReg2dTN; tile_k = kReg2dBK; smem = (kReg2dBM · kReg2dBK + kReg2dBK · kReg2dBN) floats; then check_launch_limits")
  check_sgemm_sizes("reg2d", M, N, K);
  TiledConfig c;
  c.tile_m = kReg2dBM;
  c.tile_n = kReg2dBN;
  c.tile_k = kReg2dBK;
  c.thread_m = kReg2dTM;
  c.thread_n = kReg2dTN;
  c.block_x = (kReg2dBM / kReg2dTM) * (kReg2dBN / kReg2dTN);
  c.block_y = 1;
  c.grid_x = ceil_div(N, kReg2dBN);
  c.grid_y = ceil_div(M, kReg2dBM);
  c.smem_bytes = (kReg2dBM * kReg2dBK + kReg2dBK * kReg2dBN) * kF;
  check_launch_limits("reg2d", c);
  return c;
  // END SOLUTION
}

TiledConfig vec4_config(std::int64_t M, std::int64_t N, std::int64_t K) {
  return one_d_config("vec4", M, N, K, kVecBM, kVecBN, kVecBK, 8, 8,
                      (kVecBK * kVecBM + kVecBK * kVecBN) * kF);
}

TiledConfig conflict_free_config(std::int64_t M, std::int64_t N, std::int64_t K) {
  return one_d_config("conflict_free", M, N, K, kVecBM, kVecBN, kVecBK, 8, 8,
                      (kVecBK * (kVecBM + kPadA) + kVecBK * kVecBN) * kF);
}

TiledConfig double_buffer_config(std::int64_t M, std::int64_t N, std::int64_t K) {
  return one_d_config("double_buffer", M, N, K, kVecBM, kVecBN, kVecBK, 8, 8,
                      2 * (kVecBK * (kVecBM + kPadA) + kVecBK * kVecBN) * kF);
}

TiledConfig warptile_config(std::int64_t M, std::int64_t N, std::int64_t K) {
  return one_d_config("warptile", M, N, K, kWarpBM, kWarpBN, kWarpBK, 8, 8,
                      2 * (kWarpBK * (kWarpBM + kPadA) + kWarpBK * kWarpBN) * kF);
}

bool float4_ok(std::int64_t N, std::int64_t K, const void* A, const void* B,
               const void* C) noexcept {
  auto aligned = [](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; };
  return K % 4 == 0 && N % 4 == 0 && aligned(A) && aligned(B) && aligned(C);
}

//! [error_bound]
double sgemm_error_bound(std::int64_t K, float alpha, float beta, double mass, double c0) noexcept {
  const double k = static_cast<double>(std::max<std::int64_t>(K, 1));
  const double product = std::fabs(static_cast<double>(alpha)) * mass * kEpsF32 *
                         (4.0 * std::sqrt(k) + 2.0);
  const double scaled_c = beta == 0.0f ? 0.0 : 2.0 * kEpsF32 * std::fabs(static_cast<double>(beta) * c0);
  return product + scaled_c;
}
//! [error_bound]

SgemmReference sgemm_reference(std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                               std::span<const float> A, std::span<const float> B, float beta,
                               std::span<const float> C0, std::span<const std::int64_t> rows) {
  check_sgemm_sizes("reference", M, N, K);
  const auto need = [](std::int64_t a, std::int64_t b) { return static_cast<std::size_t>(a * b); };
  GNM_CHECK_SHAPE(A.size() >= need(M, K) && B.size() >= need(K, N), "A or B is too short", M, N,
                  K, A.size(), B.size());
  GNM_CHECK_SHAPE(beta == 0.0f || C0.size() >= need(M, N), "C0 is too short", M, N, C0.size());
  SgemmReference ref;
  ref.M = M;
  ref.N = N;
  ref.K = K;
  if (rows.empty()) {
    ref.rows.resize(static_cast<std::size_t>(M));
    for (std::int64_t i = 0; i < M; ++i) ref.rows[static_cast<std::size_t>(i)] = i;
  } else {
    ref.rows.assign(rows.begin(), rows.end());
  }
  for (std::size_t r = 0; r < ref.rows.size(); ++r) {
    GNM_CHECK_SHAPE(ref.rows[r] >= 0 && ref.rows[r] < M && (r == 0 || ref.rows[r] > ref.rows[r - 1]),
                    "reference rows must be increasing and inside [0, M)", r, ref.rows[r], M);
  }
  const std::size_t cells = ref.rows.size() * static_cast<std::size_t>(N);
  ref.value.resize(cells);
  ref.bound.resize(cells);
  std::vector<double> ab(static_cast<std::size_t>(N)), mass(static_cast<std::size_t>(N));
  for (std::size_t r = 0; r < ref.rows.size(); ++r) {
    const std::int64_t i = ref.rows[r];
    // One row of A·B and of Σ|a·b| in double (the engine's reference, with M = 1).
    gnm::cpu::sgemm_reference(1, N, K, A.data() + i * K, std::max<std::int64_t>(K, 1), B.data(),
                              std::max<std::int64_t>(N, 1), ab, mass);
    for (std::int64_t j = 0; j < N; ++j) {
      const auto jj = static_cast<std::size_t>(j);
      const double c0 = beta == 0.0f ? 0.0 : static_cast<double>(C0[static_cast<std::size_t>(i * N + j)]);
      const std::size_t out = r * static_cast<std::size_t>(N) + jj;
      ref.value[out] = static_cast<double>(alpha) * ab[jj] + static_cast<double>(beta) * c0;
      ref.bound[out] = sgemm_error_bound(K, alpha, beta, mass[jj], c0);
    }
  }
  return ref;
}

SgemmCheck check_sgemm(const SgemmReference& ref, std::span<const float> C) {
  const std::int64_t N = ref.N;
  GNM_CHECK_SHAPE(C.size() >= static_cast<std::size_t>(ref.M * N), "C is shorter than M·N", ref.M,
                  N, C.size());
  SgemmCheck out;
  std::ostringstream first;
  for (std::size_t r = 0; r < ref.rows.size(); ++r) {
    const std::int64_t i = ref.rows[r];
    for (std::int64_t j = 0; j < N; ++j) {
      const std::size_t at = r * static_cast<std::size_t>(N) + static_cast<std::size_t>(j);
      const double got = static_cast<double>(C[static_cast<std::size_t>(i * N + j)]);
      const double err = std::fabs(got - ref.value[at]);
      ++out.checked;
      const bool finite = std::isfinite(got);
      if (finite) {
        out.max_abs_error = std::max(out.max_abs_error, err);
        // A zero bound (zero inputs) demands an exact result.
        const double ratio = ref.bound[at] > 0 ? err / ref.bound[at] : (err > 0 ? std::numeric_limits<double>::infinity() : 0.0);
        out.max_error_ratio = std::max(out.max_error_ratio, ratio);
      }
      if (!finite || err > ref.bound[at]) {
        if (out.mismatches < 5) {
          first << "\n  C[" << i << ", " << j << "] = " << got << ", reference " << ref.value[at]
                << ", bound " << ref.bound[at];
        }
        ++out.mismatches;
      }
    }
  }
  out.ok = out.mismatches == 0;
  std::ostringstream head;
  head << (out.ok ? "ok: " : "MISMATCH: ") << out.mismatches << " of " << out.checked
       << " elements outside the bound (M = " << ref.M << ", N = " << N << ", K = " << ref.K
       << "), max |error| " << out.max_abs_error << ", max error / bound " << out.max_error_ratio;
  out.report = head.str() + first.str();
  return out;
}

//! [registry]
std::span<const Rung> ladder() {
#if GNM_HAVE_CUDA
#define GNM_RUNG_LAUNCHER(f) , &f
#else
#define GNM_RUNG_LAUNCHER(f)
#endif
  static const std::array<Rung, 9> rungs{{
      {1, "naive", "one thread per C element, threadIdx.x along M (uncoalesced)",
       &naive_config GNM_RUNG_LAUNCHER(sgemm_naive)},
      {2, "coalesced", "threadIdx.x along N: coalesced B loads and C stores",
       &coalesced_config GNM_RUNG_LAUNCHER(sgemm_coalesced)},
      {3, "tiled", "32x32 tiles of A and B in shared memory (ex 6.1)",
       &tiled_config GNM_RUNG_LAUNCHER(sgemm_tiled)},
      {4, "reg1d", "8 results per thread down a column (1-D register tile)",
       &reg1d_config GNM_RUNG_LAUNCHER(sgemm_reg1d)},
      {5, "reg2d", "8x8 results per thread (2-D register tile, ex 6.2)",
       &reg2d_config GNM_RUNG_LAUNCHER(sgemm_reg2d)},
      {6, "vec4", "float4 global and shared-memory loads, transposed A tile",
       &vec4_config GNM_RUNG_LAUNCHER(sgemm_vec4)},
      {7, "conflict_free", "padded A tile, interleaved thread tiles: no bank conflicts",
       &conflict_free_config GNM_RUNG_LAUNCHER(sgemm_conflict_free)},
      {8, "double_buffer", "two shared-memory stages: next tile loads during the FMAs",
       &double_buffer_config GNM_RUNG_LAUNCHER(sgemm_double_buffer)},
      {9, "warptile", "block -> warp -> thread tiles, K step 16, two stages",
       &warptile_config GNM_RUNG_LAUNCHER(sgemm_warptile)},
  }};
#undef GNM_RUNG_LAUNCHER
  return rungs;
}
//! [registry]

}  // namespace gnm::ch06
