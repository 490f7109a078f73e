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

// The packing loops are templates on the tile shape (MR, NR): with the sizes known at compile
// time the per-step loops unroll into straight copies. They are instantiated here, in a file
// compiled for the baseline ISA, for both tile shapes (the AVX-512 kernel's too: packing is
// bound by memory, not by vector width, so it needs no AVX-512 instructions).

// One MR-row micro-panel of op(A) = A (rows i0.. of A, each contiguous along k).
template <std::int64_t MR>
void pack_a_panel_rows(const float* a, std::int64_t lda, std::int64_t rows, std::int64_t kc,
                       float* dst) {
  if (rows == MR) {
    const float* r[MR];
    for (std::int64_t i = 0; i < MR; ++i) r[i] = a + i * lda;
    for (std::int64_t p = 0; p < kc; ++p) {
      float* d = dst + p * MR;
#pragma GCC unroll 16
      for (std::int64_t i = 0; i < MR; ++i) d[i] = r[i][p];
    }
    return;
  }
  for (std::int64_t p = 0; p < kc; ++p) {
    float* d = dst + p * MR;
    for (std::int64_t i = 0; i < MR; ++i) d[i] = i < rows ? a[i * lda + p] : 0.0f;
  }
}

// One step p of an MR-row micro-panel from MR consecutive floats (zeros past `rows`).
template <std::int64_t MR>
inline void pack_a_step(const float* s, std::int64_t rows, float* d) {
  if (rows == MR) {
    for (std::int64_t r = 0; r < MR; ++r) d[r] = s[r];
  } else {
    for (std::int64_t r = 0; r < MR; ++r) d[r] = r < rows ? s[r] : 0.0f;
  }
}

// One step p of an NR-column micro-panel from NR consecutive floats (zeros past `cols`).
template <std::int64_t NR>
inline void pack_b_step(const float* s, std::int64_t cols, float* d) {
  if (cols == NR) {
    for (std::int64_t j = 0; j < NR; ++j) d[j] = s[j];  // full-width vector loads and stores
  } else {
    for (std::int64_t j = 0; j < NR; ++j) d[j] = j < cols ? s[j] : 0.0f;
  }
}

// One NR-column micro-panel of op(B) = Bᵀ: column j of the panel is row j of B, contiguous in p.
template <std::int64_t NR>
void pack_b_panel_cols(const float* b, std::int64_t ldb, std::int64_t cols, std::int64_t kc,
                       float* dst) {
  for (std::int64_t j = 0; j < cols; ++j) {
    const float* s = b + j * ldb;
    for (std::int64_t p = 0; p < kc; ++p) dst[p * NR + j] = s[p];
  }
  for (std::int64_t j = cols; j < NR; ++j) {
    for (std::int64_t p = 0; p < kc; ++p) dst[p * NR + j] = 0.0f;
  }
}

// Note [Packing loop order]: when the micro-panels cut across the rows of the stored matrix
// (op(B) = B, op(A) = Aᵀ), packing one micro-panel at a time would walk down kc rows with a
// stride of ld floats: a new cache line and often a new page for every 64 bytes, which the
// hardware prefetchers (they stay inside a 4 KiB page) do not follow. At n = 1024 that made
// packing B 7 % of the whole GEMM. Instead we walk each stored row once, left to right, and
// scatter its pieces into the micro-panels, whose destinations (kc × NR floats apart) are all in
// L1/L2 already.

template <std::int64_t MR>
void pack_a_tile(const GemmArgs& g, std::int64_t i0, std::int64_t mc, std::int64_t p0,
                 std::int64_t kc, float* dst) {
  if (g.ta == Transpose::No) {
    for (std::int64_t i = 0; i < mc; i += MR) {
      const std::int64_t rows = std::min(MR, mc - i);
      // panels of kc × MR floats, one after the other
      pack_a_panel_rows<MR>(g.A + (i0 + i) * g.lda + p0, g.lda, rows, kc, dst + i * kc);
    }
    return;
  }
  // op(A) = Aᵀ: row p of the stored A holds op(A)[i0 : i0 + mc, p] contiguously.
  for (std::int64_t p = 0; p < kc; ++p) {
    const float* s = g.A + (p0 + p) * g.lda + i0;
    for (std::int64_t i = 0; i < mc; i += MR) {
      pack_a_step<MR>(s + i, std::min(MR, mc - i), dst + i * kc + p * MR);
    }
  }
}

template <std::int64_t NR>
void pack_b_tile(const GemmArgs& g, std::int64_t p0, std::int64_t kc, std::int64_t j0,
                 std::int64_t nc, float* dst) {
  if (g.tb == Transpose::Yes) {
    for (std::int64_t j = 0; j < nc; j += NR) {
      const std::int64_t cols = std::min(NR, nc - j);
      // panels of kc × NR floats
      pack_b_panel_cols<NR>(g.B + (j0 + j) * g.ldb + p0, g.ldb, cols, kc, dst + j * kc);
    }
    return;
  }
  // op(B) = B: row p of the stored B holds op(B)[p, j0 : j0 + nc] contiguously.
  for (std::int64_t p = 0; p < kc; ++p) {
    const float* s = g.B + (p0 + p) * g.ldb + j0;
    for (std::int64_t j = 0; j < nc; j += NR) {
      pack_b_step<NR>(s + j, std::min(NR, nc - j), dst + j * kc + p * NR);
    }
  }
}

}  // namespace

void pack_a(const GemmArgs& g, std::int64_t mr, std::int64_t i0, std::int64_t mc,
            std::int64_t p0, std::int64_t kc, float* dst) {
  if (mr == kMR512) {
    pack_a_tile<kMR512>(g, i0, mc, p0, kc, dst);
  } else {
    pack_a_tile<kMR>(g, i0, mc, p0, kc, dst);
  }
}

void pack_b(const GemmArgs& g, std::int64_t nr, std::int64_t p0, std::int64_t kc,
            std::int64_t j0, std::int64_t nc, float* dst) {
  if (nr == kNR512) {
    pack_b_tile<kNR512>(g, p0, kc, j0, nc, dst);
  } else {
    pack_b_tile<kNR>(g, p0, kc, j0, nc, dst);
  }
}

}  // namespace gnm::cpu::detail
