// Packing for the engine's SGEMM: copies a block of op(A) or op(B) into the order in which the
// micro-kernel reads it, so that its inner loop walks memory strictly sequentially (no TLB misses,
// no cache-set conflicts from large leading dimensions, full-width aligned loads) whatever the
// layout and transposition of the caller's matrices.
//
// Napkin math: packing costs one read and one write per element; B is packed once per KC×NC
// block and reused by all M rows (2·M FLOPs per packed element), A once per MC×KC block and reused
// by up to NC columns. At M = N = 1024 that should be ~1 % of the time, provided the copy runs
// at cache speed — which depends on the loop order (Note [Packing loop order]). The loops are
// kept plain; the compiler vectorises the contiguous copies.
#include <algorithm>
#include <cstring>

#include "gemm_internal.hpp"

namespace gnm::cpu::detail {
namespace {

// One MR-row micro-panel of op(A) = A (rows i0.. of A, each contiguous along k).
void pack_a_panel_rows(const float* a, std::int64_t lda, std::int64_t rows, std::int64_t kc,
                       float* dst) {
  if (rows == kMR) {
    const float* r0 = a;
    const float* r1 = a + lda;
    const float* r2 = a + 2 * lda;
    const float* r3 = a + 3 * lda;
    const float* r4 = a + 4 * lda;
    const float* r5 = a + 5 * lda;
    for (std::int64_t p = 0; p < kc; ++p) {
      float* d = dst + p * kMR;
      d[0] = r0[p];
      d[1] = r1[p];
      d[2] = r2[p];
      d[3] = r3[p];
      d[4] = r4[p];
      d[5] = r5[p];
    }
    return;
  }
  for (std::int64_t p = 0; p < kc; ++p) {
    float* d = dst + p * kMR;
    for (std::int64_t r = 0; r < kMR; ++r) d[r] = r < rows ? a[r * lda + p] : 0.0f;
  }
}

// One step p of an MR-row micro-panel from MR consecutive floats (zeros past `rows`).
inline void pack_a_step(const float* s, std::int64_t rows, float* d) {
  if (rows == kMR) {
    for (std::int64_t r = 0; r < kMR; ++r) d[r] = s[r];
  } else {
    for (std::int64_t r = 0; r < kMR; ++r) d[r] = r < rows ? s[r] : 0.0f;
  }
}

// One step p of an NR-column micro-panel from NR consecutive floats (zeros past `cols`).
inline void pack_b_step(const float* s, std::int64_t cols, float* d) {
  if (cols == kNR) {
    for (std::int64_t j = 0; j < kNR; ++j) d[j] = s[j];  // two 8-wide loads and stores
  } else {
    for (std::int64_t j = 0; j < kNR; ++j) d[j] = j < cols ? s[j] : 0.0f;
  }
}

// One NR-column micro-panel of op(B) = Bᵀ: column j of the panel is row j of B, contiguous in p.
void pack_b_panel_cols(const float* b, std::int64_t ldb, std::int64_t cols, std::int64_t kc,
                       float* dst) {
  for (std::int64_t j = 0; j < cols; ++j) {
    const float* s = b + j * ldb;
    for (std::int64_t p = 0; p < kc; ++p) dst[p * kNR + j] = s[p];
  }
  for (std::int64_t j = cols; j < kNR; ++j) {
    for (std::int64_t p = 0; p < kc; ++p) dst[p * kNR + j] = 0.0f;
  }
}

}  // namespace

// Note [Packing loop order]: when the micro-panels cut across the rows of the stored matrix
// (op(B) = B, op(A) = Aᵀ), packing one micro-panel at a time would walk down kc rows with a
// stride of ld floats: a new cache line and often a new page for every 64 bytes, which the
// hardware prefetchers (they stay inside a 4 KiB page) do not follow. At n = 1024 that made
// packing B 7 % of the whole GEMM. Instead we walk each stored row once, left to right, and
// scatter its pieces into the micro-panels, whose destinations (kc × NR floats apart) are all in
// L1/L2 already.

void pack_a(const GemmArgs& g, std::int64_t i0, std::int64_t mc, std::int64_t p0, std::int64_t kc,
            float* dst) {
  if (g.ta == Transpose::No) {
    for (std::int64_t i = 0; i < mc; i += kMR) {
      const std::int64_t rows = std::min(kMR, mc - i);
      // panels of kc × MR floats, one after the other
      pack_a_panel_rows(g.A + (i0 + i) * g.lda + p0, g.lda, rows, kc, dst + i * kc);
    }
    return;
  }
  // op(A) = Aᵀ: row p of the stored A holds op(A)[i0 : i0 + mc, p] contiguously.
  for (std::int64_t p = 0; p < kc; ++p) {
    const float* s = g.A + (p0 + p) * g.lda + i0;
    for (std::int64_t i = 0; i < mc; i += kMR) {
      pack_a_step(s + i, std::min(kMR, mc - i), dst + i * kc + p * kMR);
    }
  }
}

void pack_b(const GemmArgs& g, std::int64_t p0, std::int64_t kc, std::int64_t j0, std::int64_t nc,
            float* dst) {
  if (g.tb == Transpose::Yes) {
    for (std::int64_t j = 0; j < nc; j += kNR) {
      const std::int64_t cols = std::min(kNR, nc - j);
      // panels of kc × NR floats
      pack_b_panel_cols(g.B + (j0 + j) * g.ldb + p0, g.ldb, cols, kc, dst + j * kc);
    }
    return;
  }
  // op(B) = B: row p of the stored B holds op(B)[p, j0 : j0 + nc] contiguously.
  for (std::int64_t p = 0; p < kc; ++p) {
    const float* s = g.B + (p0 + p) * g.ldb + j0;
    for (std::int64_t j = 0; j < nc; j += kNR) {
      pack_b_step(s + j, std::min(kNR, nc - j), dst + j * kc + p * kNR);
    }
  }
}

}  // namespace gnm::cpu::detail
