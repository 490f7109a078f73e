// Internal: unit-stride dtype conversion on the CPU, the inner loop of copy_cpu (cpu/copy.cpp)
// whenever both operands advance by one element, which covers every .to(dtype) of a contiguous
// or dense tensor (chapter 10.4's autocast casts).
//
// f32 ↔ f16 use the F16C instructions (vcvtps2ph / vcvtph2ps, part of x86-64-v3) and f32 ↔ bf16
// use AVX2 integer ops; both are bit-identical to the scalar conversions of gnm/core/half.hpp
// (round to nearest even, NaN stays NaN and comes out quiet, ±0/±Inf/subnormals exact), which
// tests/common/test_convert.cpp checks pattern by pattern. Builds without F16C/AVX2 fall back to
// those scalar conversions. The functions run on the calling thread: copy_cpu splits large
// conversions over the pool (detail::for_each_strided) and calls these on each piece.
#pragma once

#include <cstdint>

#include "gnm/core/dtype.hpp"
#include "gnm/core/half.hpp"

namespace gnm::kernels {

// dst[k] = src[k] converted, for 0 ≤ k < n; dst and src must not overlap.
void convert_f32_to_f16_cpu(f16* dst, const float* src, std::int64_t n);
void convert_f16_to_f32_cpu(float* dst, const f16* src, std::int64_t n);
void convert_f32_to_bf16_cpu(bf16* dst, const float* src, std::int64_t n);
void convert_bf16_to_f32_cpu(float* dst, const bf16* src, std::int64_t n);

// A unit-stride converter: n elements from src (dtype `from`) to dst (dtype `to`).
using ContiguousConvertFn = void (*)(void* dst, const void* src, std::int64_t n);

// The fast converter for the pair, or nullptr when it has none and the generic element loop in
// copy.cpp should run: the four vector conversions above, and a byte copy when the dtypes are
// equal (except bool, whose copy normalises every nonzero byte to 1).
ContiguousConvertFn contiguous_converter(DType to, DType from);

}  // namespace gnm::kernels
