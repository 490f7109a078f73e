// Symmetric per-row int8 quantization and the int8 × int8 → int32 GEMM (chapter 10.4).
//
// Note [Int8 GEMM on AVX2]
// x86-64-v3 has no int8 dot-product instruction (AVX-VNNI came later), and vpmaddubsw
// (u8 × s8, saturating int16 pair sums) would saturate for 255 · 127 · 2 > 32767. So both
// operands are used as int16: vpmaddwd multiplies 16 int16 pairs and adds neighbours into 8
// exact int32 lanes, and vpaddd accumulates them. That is 16 multiply-adds per two p015 uops,
// about 24 per cycle at best against 16 for the f32 FMA kernel (2 FMAs × 8 lanes) — int8 wins
// by memory (4× fewer weight bytes) more than by arithmetic on this ISA.
//
// Tile: 6 rows of A × 2 rows of B = 12 accumulators + 2 widened B vectors + 1 A vector +
// 1 product = 16 ymm registers. Per 16-deep step: 2 vpmovsxbw (B, from int8 in memory),
// 12 vpmaddwd with A as a memory operand, 12 vpaddd. A is int8 in memory too; each 6-row tile
// is widened once per K block into a small int16 buffer (6 × 1024 × 2 B = 12 KiB, in L1) and
// reused for every B row pair of the job, so the widening costs 1/(columns per job) per MAC.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "gnm/core/check.hpp"
#include "gnm/nn/quantize.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace gnm::nn {

namespace {

constexpr std::int64_t kAlign = 16;    // row stride granularity (one xmm of int8)
constexpr std::int64_t kKc = 1024;     // K block: the widened A tile stays in L1
constexpr int kMr = 6;                 // A rows per register tile
constexpr int kNr = 2;                 // B rows per register tile
constexpr std::int64_t kMc = 48;       // A rows per parallel job (8 tiles)
constexpr std::int64_t kNc = 64;       // B rows per parallel job (32 tiles)

std::int64_t round_up(std::int64_t v, std::int64_t m) { return (v + m - 1) / m * m; }

// max |x_k| over the row, and whether the row holds a NaN or an infinity.
float row_abs_max(const float* x, std::int64_t n, bool& finite) {
  std::int64_t k = 0;
  float m = 0.0f;
  bool nan = false;
#if defined(__AVX2__)
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 vm = _mm256_setzero_ps();
  __m256 vnan = _mm256_setzero_ps();
  for (; k + 8 <= n; k += 8) {
    const __m256 v = _mm256_loadu_ps(x + k);
    // maxps drops a NaN in its first operand, so NaNs are tracked on the side.
    vm = _mm256_max_ps(vm, _mm256_and_ps(v, abs_mask));
    vnan = _mm256_or_ps(vnan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vm);
  for (float l : lanes) m = std::max(m, l);
  nan = _mm256_movemask_ps(vnan) != 0;
#endif
  for (; k < n; ++k) {
    nan = nan || std::isnan(x[k]);
    m = std::max(m, std::fabs(x[k]));
  }
  finite = !nan && std::isfinite(m);
  return m;
}

// q[k] = clamp(round_half_even(x[k] · inv), −127, 127) for k < n; q[n..stride) stays 0.
void quantize_row(const float* x, std::int64_t n, float inv, std::int8_t* q) {
  std::int64_t k = 0;
#if defined(__AVX2__)
  const __m256 vinv = _mm256_set1_ps(inv);
  const __m256i hi = _mm256_set1_epi32(127);
  const __m256i lo = _mm256_set1_epi32(-127);
  for (; k + 16 <= n; k += 16) {
    // cvtps2dq rounds to nearest even (the MXCSR default), like std::nearbyint below.
    __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k), vinv));
    __m256i q1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8), vinv));
    q0 = _mm256_max_epi32(_mm256_min_epi32(q0, hi), lo);
    q1 = _mm256_max_epi32(_mm256_min_epi32(q1, hi), lo);
    // packs works per 128-bit lane: [q0 lo, q1 lo, q0 hi, q1 hi] → reorder to q0, q1.
    const __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
    const __m128i b8 =
        _mm_packs_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k), b8);
  }
#endif
  for (; k < n; ++k) {
    const float r = std::nearbyint(x[k] * inv);
    q[k] = static_cast<std::int8_t>(std::clamp(r, -127.0f, 127.0f));
  }
}

#if defined(__AVX2__)
// Sum of the 8 int32 lanes (once per tile and K block).
inline std::int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

inline __m256i load_a(const std::int16_t* p) {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(p));
}
inline __m256i load_b(const std::int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline void store(std::int32_t* c, std::int32_t v, bool accumulate) {
  *c = accumulate ? *c + v : v;
}

//! [int8_tile]
// The full 6 × 2 tile with named accumulators: GCC keeps them in registers this way, while an
// array of __m256i (the generic tile below) gets spilled to the stack inside the loop.
void tile_6x2(const std::int16_t* a, std::int64_t lda, const std::int8_t* b, std::int64_t ldb,
              std::int64_t kc, std::int32_t* c, std::int64_t ldc, bool accumulate) {
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const std::int8_t* b1 = b + ldb;
  for (std::int64_t k = 0; k < kc; k += 16) {
    const __m256i w0 = load_b(b + k);
    const __m256i w1 = load_b(b1 + k);
    __m256i x = load_a(a + k);
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x, w0));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x, w1));
    x = load_a(a + lda + k);
    c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x, w0));
    c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x, w1));
    x = load_a(a + 2 * lda + k);
    c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x, w0));
    c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x, w1));
    x = load_a(a + 3 * lda + k);
    c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x, w0));
    c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x, w1));
    x = load_a(a + 4 * lda + k);
    c40 = _mm256_add_epi32(c40, _mm256_madd_epi16(x, w0));
    c41 = _mm256_add_epi32(c41, _mm256_madd_epi16(x, w1));
    x = load_a(a + 5 * lda + k);
    c50 = _mm256_add_epi32(c50, _mm256_madd_epi16(x, w0));
    c51 = _mm256_add_epi32(c51, _mm256_madd_epi16(x, w1));
  }
  const __m256i acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                             {c30, c31}, {c40, c41}, {c50, c51}};
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 2; ++j) store(c + i * ldc + j, hsum(acc[i][j]), accumulate);
}
//! [int8_tile]
#endif

// Edge tiles (R < 6 rows or C == 1 column): c[i·ldc + j] (+)= Σ_k a[i·lda + k] · b[j·ldb + k].
template <int R, int C>
void tile(const std::int16_t* a, std::int64_t lda, const std::int8_t* b, std::int64_t ldb,
          std::int64_t kc, std::int32_t* c, std::int64_t ldc, bool accumulate) {
#if defined(__AVX2__)
  if constexpr (R == 6 && C == 2) {
    tile_6x2(a, lda, b, ldb, kc, c, ldc, accumulate);
  } else {
    __m256i acc[R][C];
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < C; ++j) acc[i][j] = _mm256_setzero_si256();
    for (std::int64_t k = 0; k < kc; k += 16) {
      __m256i w[C];
      for (int j = 0; j < C; ++j) w[j] = load_b(b + j * ldb + k);
      for (int i = 0; i < R; ++i) {
        const __m256i x = load_a(a + i * lda + k);
        for (int j = 0; j < C; ++j)
          acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(x, w[j]));
      }
    }
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < C; ++j) store(c + i * ldc + j, hsum(acc[i][j]), accumulate);
  }
#else
  for (int i = 0; i < R; ++i) {
    for (int j = 0; j < C; ++j) {
      std::int32_t s = 0;
      for (std::int64_t k = 0; k < kc; ++k)
        s += static_cast<std::int32_t>(a[i * lda + k]) * static_cast<std::int32_t>(b[j * ldb + k]);
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
    }
  }
#endif
}

using TileFn = void (*)(const std::int16_t*, std::int64_t, const std::int8_t*, std::int64_t,
                        std::int64_t, std::int32_t*, std::int64_t, bool);

// kTiles[r − 1][c − 1] handles an r × c edge tile.
constexpr TileFn kTiles[kMr][kNr] = {
    {tile<1, 1>, tile<1, 2>}, {tile<2, 1>, tile<2, 2>}, {tile<3, 1>, tile<3, 2>},
    {tile<4, 1>, tile<4, 2>}, {tile<5, 1>, tile<5, 2>}, {tile<6, 1>, tile<6, 2>}};

void check_invariants(const QuantizedMatrix& m, const char* which) {
  GNM_CHECK(m.rows >= 0 && m.cols >= 0 && m.stride == round_up(m.cols, kAlign) &&
                static_cast<std::int64_t>(m.values.size()) == m.rows * m.stride &&
                static_cast<std::int64_t>(m.scales.size()) == m.rows,
            "int8_matmul_nt: a QuantizedMatrix breaks its invariants (build it with "
            "quantize_rows)",
            which, m.rows, m.cols, m.stride, m.values.size(), m.scales.size());
}

// One job: rows [i_begin, i_end) of A against rows [j_begin, j_end) of B, every K block.
void run_block(const QuantizedMatrix& a, const QuantizedMatrix& b, std::int32_t* c,
               std::int64_t i_begin, std::int64_t i_end, std::int64_t j_begin,
               std::int64_t j_end) {
  alignas(32) std::int16_t a16[kMr * kKc];
  const std::int64_t kp = a.stride;
  const std::int64_t ldc = b.rows;
  for (std::int64_t k0 = 0; k0 < kp; k0 += kKc) {
    const std::int64_t kc = std::min(kKc, kp - k0);
    for (std::int64_t i0 = i_begin; i0 < i_end; i0 += kMr) {
      const int r = static_cast<int>(std::min<std::int64_t>(kMr, i_end - i0));
      for (int i = 0; i < r; ++i) {
        const std::int8_t* src = a.values.data() + (i0 + i) * kp + k0;
        std::int16_t* dst = a16 + i * kKc;
        for (std::int64_t k = 0; k < kc; ++k) dst[k] = src[k];  // vectorised (pmovsxbw)
      }
      for (std::int64_t j0 = j_begin; j0 < j_end; j0 += kNr) {
        const int cc = static_cast<int>(std::min<std::int64_t>(kNr, j_end - j0));
        kTiles[r - 1][cc - 1](a16, kKc, b.values.data() + j0 * kp + k0, kp, kc,
                              c + i0 * ldc + j0, ldc, k0 > 0);
      }
    }
  }
}

}  // namespace

QuantizedMatrix quantize_rows(std::span<const float> x, std::int64_t rows, std::int64_t cols,
                              ThreadPool* pool, std::vector<char>* non_finite_rows) {
  GNM_CHECK_SHAPE(rows >= 0 && cols >= 0 && static_cast<std::int64_t>(x.size()) == rows * cols,
                  "quantize_rows: the buffer does not hold rows × cols values", x.size(), rows,
                  cols);
  QuantizedMatrix q;
  q.rows = rows;
  q.cols = cols;
  q.stride = round_up(cols, kAlign);
  q.values.assign(static_cast<std::size_t>(rows * q.stride), 0);
  q.scales.assign(static_cast<std::size_t>(rows), 1.0f);
  std::vector<char> bad(static_cast<std::size_t>(rows), 0);
  const auto body = [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t r = lo; r < hi; ++r) {
      bool finite = true;
      const float* row = x.data() + r * cols;
      const float m = row_abs_max(row, cols, finite);
      if (!finite) {
        bad[static_cast<std::size_t>(r)] = 1;
        continue;
      }
      // See Note [Symmetric per-row quantization] for s = 1 on tiny rows.
      float s = m / 127.0f;
      if (!(s >= std::numeric_limits<float>::min())) s = 1.0f;
      q.scales[static_cast<std::size_t>(r)] = s;
      quantize_row(row, cols, 1.0f / s, q.values.data() + r * q.stride);
    }
  };
  if (rows * cols < (1 << 16)) {
    body(0, rows);
  } else {
    ThreadPool& p = pool ? *pool : default_thread_pool();
    p.parallel_for(0, rows, std::max<std::int64_t>(1, (1 << 14) / std::max<std::int64_t>(cols, 1)),
                   body);
  }
  if (non_finite_rows != nullptr) {
    *non_finite_rows = std::move(bad);
  } else {
    const auto it = std::find(bad.begin(), bad.end(), 1);
    GNM_CHECK(it == bad.end(), "quantize_rows: a row holds a NaN or an infinity",
              it - bad.begin(), rows, cols);
  }
  return q;
}

//! [int8_matmul]
void int8_matmul_nt(const QuantizedMatrix& a, const QuantizedMatrix& b, std::span<std::int32_t> c,
                    ThreadPool* pool) {
  check_invariants(a, "a");
  check_invariants(b, "b");
  GNM_CHECK_SHAPE(a.cols == b.cols, "int8_matmul_nt: A (M, K) and B (N, K) need the same K",
                  shape_str(Shape{a.rows, a.cols}), shape_str(Shape{b.rows, b.cols}));
  GNM_CHECK_SHAPE(static_cast<std::int64_t>(c.size()) == a.rows * b.rows,
                  "int8_matmul_nt: C must hold M × N values", c.size(), a.rows, b.rows);
  GNM_CHECK(a.cols <= kMaxInt8Depth,
            "int8_matmul_nt: K is too long for exact int32 sums (K · 127² < 2³¹)", a.cols,
            kMaxInt8Depth);
  const std::int64_t M = a.rows;
  const std::int64_t N = b.rows;
  if (M == 0 || N == 0) return;
  if (a.stride == 0) {  // K == 0: empty sums
    std::fill(c.begin(), c.end(), 0);
    return;
  }
  const std::int64_t blocks_m = (M + kMc - 1) / kMc;
  const std::int64_t blocks_n = (N + kNc - 1) / kNc;
  const auto job = [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t t = lo; t < hi; ++t) {
      const std::int64_t bi = t / blocks_n;
      const std::int64_t bj = t % blocks_n;
      run_block(a, b, c.data(), bi * kMc, std::min(M, (bi + 1) * kMc), bj * kNc,
                std::min(N, (bj + 1) * kNc));
    }
  };
  // Below ~1 M multiply-adds (~50 µs) waking the workers costs more than it saves.
  if (M * N * a.stride < (1 << 20)) {
    job(0, blocks_m * blocks_n);
  } else {
    ThreadPool& p = pool ? *pool : default_thread_pool();
    p.parallel_for(0, blocks_m * blocks_n, 1, job);
  }
}
//! [int8_matmul]

}  // namespace gnm::nn
