/// \file
/// This CPU core's fp32 FMA throughput, measured with a loop whose result is known in closed form.
///
/// A data sheet's peak is not this machine's (a virtual CPU, a turbo clock, AVX-512 frequency
/// limits), so chapter 1's roofline and chapter 2's "% of peak" come from one measured loop:
/// independent accumulator chains, each updated with x ← x · 1 + 2⁻¹⁰ `iterations` times, in
/// registers of the width given (CpuKernel::Avx2: 12 chains of 8-float ymm registers;
/// CpuKernel::Avx512: 24 chains of 16-float zmm registers; CpuKernel::Portable: plain C++ with
/// the AVX2 loop's shape). Every value stays a multiple of 2⁻¹⁰ below 2¹⁴, exact in fp32, so the
/// sum of all lanes must equal fma_loop_expected() bit for bit: proof that the loop ran
/// `iterations` times and was not folded away by the compiler.
///
/// \code
/// const gnm::cpu::FmaRun r = gnm::cpu::run_fma_loop(gnm::cpu::CpuKernel::Avx2, 1 << 22);
/// // r.checksum_ok, and r.flops / r.seconds FLOP/s on the calling thread.
/// \endcode
#pragma once

#include <cstdint>

#include "gnm/cpu/gemm.hpp"

namespace gnm::cpu {

/// Largest `iterations` for which the closed form is exact: 2²³ steps of 2⁻¹⁰ add 2¹³, and the
/// largest start value is below 2⁷, so every lane stays below 2¹⁴ (24-bit significand).
inline constexpr std::int64_t kFmaLoopMaxIterations = std::int64_t{1} << 23;

/// The register shape of the FMA loop for one width.
struct FmaLoopShape {
  int chains = 0;  ///< Independent accumulators (registers) updated each iteration.
  int lanes = 0;   ///< fp32 lanes per accumulator (8 for ymm, 16 for zmm).
};

/// One run of the FMA loop on the calling thread.
struct FmaRun {
  double seconds = 0;        ///< Wall time of the loop alone (steady clock).
  double flops = 0;          ///< FLOPs executed: iterations × chains × lanes × 2.
  double checksum = 0;       ///< Sum of every lane of every accumulator after the loop (in double).
  double expected = 0;       ///< fma_loop_expected(width, iterations).
  bool checksum_ok = false;  ///< checksum == expected, bit for bit.
};

/// The loop's shape for `width` (Avx2 and Portable: 12 × 8; Avx512: 24 × 16). Throws gnm::Error
/// for CpuKernel::Auto (name a width). Does not check that the CPU supports it.
FmaLoopShape fma_loop_shape(CpuKernel width);

/// The exact checksum of run_fma_loop(width, iterations): Σ over lanes of (x₀ + iterations·2⁻¹⁰),
/// where lane l of chain c starts at x₀ = (c · lanes + l) / 4. Throws as run_fma_loop() for a
/// bad width or iteration count, but does not need the CPU to support `width`.
double fma_loop_expected(CpuKernel width, std::int64_t iterations);

/// Runs the FMA loop of `width` (CpuKernel::Avx2, CpuKernel::Avx512 or CpuKernel::Portable) on
/// the calling thread and times it. Peak FLOP/s of one core is flops / seconds; run it on several
/// pinned threads at once for the whole CPU. ~iterations × chains / 2 cycles on a core with two
/// FMA ports (2²² AVX2 iterations: ~25 M cycles, ~8 ms at 3 GHz).
///
/// Throws gnm::Error naming the value when `iterations` is outside [1, kFmaLoopMaxIterations] or
/// `width` is CpuKernel::Auto, and gnm::NotImplemented naming what is missing when this CPU, OS
/// or build cannot run `width` (see cpu_kernel_supported()).
FmaRun run_fma_loop(CpuKernel width, std::int64_t iterations);

}  // namespace gnm::cpu
