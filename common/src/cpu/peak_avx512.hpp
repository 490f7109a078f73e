// The AVX-512 FMA loop's interface (peak_avx512.cpp). Plain declarations only, for the same
// reason as gemm_avx512.hpp: that file is compiled with -mavx512f, and any inline function it
// pulled in from a shared header could be emitted there with AVX-512 instructions and then chosen
// by the linker for every caller, which would crash AVX2-only CPUs.
#pragma once

#include <cstdint>

namespace gnm::cpu::detail {

// True when the build compiled the AVX-512 loop (x86-64 with GCC/Clang). Data, not code.
extern const bool kHaveAvx512FmaLoop;

// Chains and lanes of the AVX-512 loop (24 zmm accumulators of 16 floats).
inline constexpr int kFma512Chains = 24;
inline constexpr int kFma512Lanes = 16;

// Runs the loop: lane l of chain c starts at (c · 16 + l) / 4 and is updated `iterations` times
// with x ← x · a + b; returns the sum of every lane in double. Call only when the CPU and OS
// support AVX-512F.
double fma_loop_avx512(std::int64_t iterations, float a, float b);

}  // namespace gnm::cpu::detail
