// Unit-stride f32 ↔ f16 and f32 ↔ bf16 conversion with F16C and AVX2 (see convert.hpp).
//
// Napkin math: a conversion moves 6 bytes per element (4 + 2). One core streams ~10–20 GB/s from
// DRAM, so 1 M elements cost ~0.3–0.6 ms when memory-bound; the scalar code of half.hpp needs
// ~10–20 instructions (and, for fp16, unpredictable branches on the exponent) per element, 3–10×
// slower than that. The vector loops below do 16 elements in a handful of instructions, so they
// run at the memory's pace.
//
// Note [Vector conversions match half.hpp]: the scalar functions are the specification.
//   f32 → f16: vcvtps2ph with an immediate of 0 rounds to nearest even regardless of MXCSR, gives
//     ±Inf from 65520 up, rounds into the subnormals, and turns NaN into sign | 0x7E00 | the top
//     payload bits: exactly float_to_half_bits (tests/common/test_half.cpp checks the scalar
//     against the instruction too). f32 subnormals become ±0 either way, so even a DAZ flag,
//     which gnm never sets, could not change a result.
//   f16 → f32: vcvtph2ps is exact and quiets signalling NaNs, as half_bits_to_float.
//   f32 → bf16: the same integer steps as float_to_bf16_bits, eight lanes at a time: add 0x7FFF
//     plus the kept part's lowest bit and keep the top half; lanes holding NaN take the
//     truncated bits with the quiet bit (0x0040) set instead.
//   bf16 → f32: widen, shift into the top half, set the quiet bit (0x00400000) on NaN lanes.
#include "convert.hpp"

#include <cstring>

#if defined(__F16C__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace gnm::kernels {

namespace {

#if defined(__AVX2__)
// Eight floats (as bits) → eight bf16 in the low 16 bits of each 32-bit lane.
inline __m256i round_to_bf16_lanes(__m256i u) {
  const __m256i abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
  // |x| as bits is a non-negative int32, so a signed compare orders it like the value.
  const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7F800000));
  const __m256i top = _mm256_srli_epi32(u, 16);
  const __m256i lsb = _mm256_and_si256(top, _mm256_set1_epi32(1));
  const __m256i rounded =
      _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lsb), 16);
  const __m256i quiet_nan = _mm256_or_si256(top, _mm256_set1_epi32(0x0040));
  return _mm256_blendv_epi8(rounded, quiet_nan, nan);
}
#endif

// memmove, not memcpy: copy_ between overlapping views of one storage must not be undefined.
template <std::size_t Bytes>
void copy_bytes(void* dst, const void* src, std::int64_t n) {
  std::memmove(dst, src, static_cast<std::size_t>(n) * Bytes);
}

void f32_to_f16(void* d, const void* s, std::int64_t n) {
  convert_f32_to_f16_cpu(static_cast<f16*>(d), static_cast<const float*>(s), n);
}
void f16_to_f32(void* d, const void* s, std::int64_t n) {
  convert_f16_to_f32_cpu(static_cast<float*>(d), static_cast<const f16*>(s), n);
}
void f32_to_bf16(void* d, const void* s, std::int64_t n) {
  convert_f32_to_bf16_cpu(static_cast<bf16*>(d), static_cast<const float*>(s), n);
}
void bf16_to_f32(void* d, const void* s, std::int64_t n) {
  convert_bf16_to_f32_cpu(static_cast<float*>(d), static_cast<const bf16*>(s), n);
}

}  // namespace

void convert_f32_to_f16_cpu(f16* dst, const float* src, std::int64_t n) {
  std::int64_t k = 0;
#if defined(__F16C__)
  for (; k + 16 <= n; k += 16) {
    const __m128i lo = _mm256_cvtps_ph(_mm256_loadu_ps(src + k), _MM_FROUND_TO_NEAREST_INT);
    const __m128i hi = _mm256_cvtps_ph(_mm256_loadu_ps(src + k + 8), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + k), lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + k + 8), hi);
  }
  if (k + 8 <= n) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + k),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + k), _MM_FROUND_TO_NEAREST_INT));
    k += 8;
  }
#endif
  for (; k < n; ++k) dst[k] = f16::from_bits(float_to_half_bits(src[k]));
}

void convert_f16_to_f32_cpu(float* dst, const f16* src, std::int64_t n) {
  std::int64_t k = 0;
#if defined(__F16C__)
  for (; k + 16 <= n; k += 16) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k + 8));
    _mm256_storeu_ps(dst + k, _mm256_cvtph_ps(lo));
    _mm256_storeu_ps(dst + k + 8, _mm256_cvtph_ps(hi));
  }
  if (k + 8 <= n) {
    _mm256_storeu_ps(dst + k,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k))));
    k += 8;
  }
#endif
  for (; k < n; ++k) dst[k] = half_bits_to_float(src[k].bits);
}

void convert_f32_to_bf16_cpu(bf16* dst, const float* src, std::int64_t n) {
  std::int64_t k = 0;
#if defined(__AVX2__)
  for (; k + 16 <= n; k += 16) {
    const __m256i lo = round_to_bf16_lanes(_mm256_castps_si256(_mm256_loadu_ps(src + k)));
    const __m256i hi = round_to_bf16_lanes(_mm256_castps_si256(_mm256_loadu_ps(src + k + 8)));
    // packus works per 128-bit half: (lo0-3, hi0-3 | lo4-7, hi4-7); every lane is ≤ 0xFFFF, so
    // its unsigned saturation never triggers. Swapping the middle quadwords restores the order.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k), packed);
  }
#endif
  for (; k < n; ++k) dst[k] = bf16::from_bits(float_to_bf16_bits(src[k]));
}

void convert_bf16_to_f32_cpu(float* dst, const bf16* src, std::int64_t n) {
  std::int64_t k = 0;
#if defined(__AVX2__)
  const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF);
  const __m256i inf = _mm256_set1_epi32(0x7F800000);
  const __m256i quiet = _mm256_set1_epi32(0x00400000);
  for (; k + 8 <= n; k += 8) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k));
    const __m256i u = _mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16);
    const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
    const __m256i out = _mm256_or_si256(u, _mm256_and_si256(nan, quiet));
    _mm256_storeu_ps(dst + k, _mm256_castsi256_ps(out));
  }
#endif
  for (; k < n; ++k) dst[k] = bf16_bits_to_float(src[k].bits);
}

ContiguousConvertFn contiguous_converter(DType to, DType from) {
  if (to == from) {
    if (to == DType::boolean) return nullptr;
    switch (dtype_size(to)) {
      case 1: return copy_bytes<1>;
      case 2: return copy_bytes<2>;
      case 4: return copy_bytes<4>;
      case 8: return copy_bytes<8>;
      default: return nullptr;
    }
  }
  if (from == DType::f32 && to == DType::f16) return f32_to_f16;
  if (from == DType::f16 && to == DType::f32) return f16_to_f32;
  if (from == DType::f32 && to == DType::bf16) return f32_to_bf16;
  if (from == DType::bf16 && to == DType::f32) return bf16_to_f32;
  return nullptr;
}

}  // namespace gnm::kernels
