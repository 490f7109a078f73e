// The harness of the emulated SGEMM tests: test_sgemm_emulated.cpp (exercises 6.1 and 6.2, built
// against the solutions, the stubs and the learner's code) and test_ladder_emulated.cpp (the other
// rungs). The kernels are the real text of sgemm_ladder_kernels.cuh, compiled by g++ and run by the
// host emulator (tests/emu/cuda_host_emulator.hpp: one std::thread per CUDA thread, blocks one
// after another, __syncthreads() a block-wide barrier).
//
// Every case runs C = alpha · A · B + beta · C0 on random inputs (gnm::fill_uniform, [−1, 1)) and
// compares every element with the double-precision reference of sgemm_ladder.cpp within its bound
// from Note [SGEMM error bound] (sgemm_ladder.hpp). That bound is K-scaled: a K-term fp32 dot
// product accumulated in any order is off by at most K · eps · mass (mass = Σ_k |a_ik · b_kj|),
// typically √K · eps · mass, and the bound is 4 · √K · eps · mass plus 2 · eps for the scaling by
// alpha and beta — far above rounding noise, far below one lost or doubled product (≈ 0.25 here).
// C lies between poisoned guard zones that must come back bit-for-bit untouched (nothing outside
// C's M·N elements is written); with beta == 0 C holds NaN, which must not reach the result (C is
// not read). A and B are allocated at their exact sizes, so AddressSanitizer (the asan preset runs
// these tests) sees any read past them; ThreadSanitizer sees a missing __syncthreads().
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "cuda_host_emulator.hpp"
#include "gnm/core/random.hpp"
#include "sgemm_ladder.hpp"

namespace gnm::ch06::emulated {

/// A rung's launcher on the emulator: the real launcher's arguments, without the stream.
using Launcher = void (*)(std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                          const float* A, const float* B, float beta, float* C);

/// The kernels' common signature (as `KernelFn` in sgemm_ladder.cu).
using KernelFn = void (*)(int, int, int, float, const float*, const float*, float, float*);

inline dim3 grid_of(const TiledConfig& c) {
  return dim3(static_cast<unsigned>(c.grid_x), static_cast<unsigned>(c.grid_y));
}
inline dim3 block_of(const TiledConfig& c) {
  return dim3(static_cast<unsigned>(c.block_x), static_cast<unsigned>(c.block_y));
}
inline int as_int(std::int64_t v) { return static_cast<int>(v); }

/// `launch` of sgemm_ladder.cu on the emulator: the kernel with cfg's grid and block.
inline void emu_run(KernelFn kernel, const TiledConfig& cfg, std::int64_t M, std::int64_t N,
                    std::int64_t K, float alpha, const float* A, const float* B, float beta,
                    float* C) {
  gnm::emu::emu_launch(grid_of(cfg), block_of(cfg), kernel, as_int(M), as_int(N), as_int(K), alpha,
                       A, B, beta, C);
}

/// One problem: sizes, scalars, and how many floats A, B and C sit past a 16-byte boundary
/// (1: float4_ok is false, so rungs 6–9 take their scalar path even when N and K allow float4).
struct Case {
  std::int64_t M = 0, N = 0, K = 0;
  float alpha = 1.0f, beta = 0.0f;
  std::int64_t offset = 0;
};

/// What one case gave.
struct Outcome {
  bool ok = false;         ///< every element within its bound and both guard zones untouched
  bool float4 = false;     ///< float4_ok held (rungs 6–9 took their 128-bit path)
  std::string report;      ///< the case, then check_sgemm's report and the guard zones' state
};

constexpr float kPoison = -777.0f;      // outside the inputs' range, so a stray write shows
constexpr std::int64_t kFrontGuard = 16;  // floats before C (keeps C 16-byte aligned)
constexpr std::int64_t kTailGuard = 64;   // floats after C: more than any N the cases use

struct AlignedDelete {
  void operator()(float* p) const noexcept { ::operator delete[](p, std::align_val_t{16}); }
};
using Floats = std::unique_ptr<float[], AlignedDelete>;

/// n floats, 16-byte aligned, exactly n (AddressSanitizer flags the first float past them).
inline Floats aligned_floats(std::int64_t n) {
  return Floats(static_cast<float*>(
      ::operator new[](static_cast<std::size_t>(n) * sizeof(float), std::align_val_t{16})));
}

inline std::string describe(const Case& c) {
  return std::to_string(c.M) + " x " + std::to_string(c.N) + " x " + std::to_string(c.K) +
         ", alpha " + std::to_string(c.alpha) + ", beta " + std::to_string(c.beta) + ", offset " +
         std::to_string(c.offset);
}

/// Runs `launch` on case `c` and checks it (see the file comment).
inline Outcome run_case(Launcher launch, const Case& c) {
  const auto seed = static_cast<std::uint64_t>(c.M * 1000003 + c.N * 1009 + c.K);
  const std::int64_t a_n = c.M * c.K, b_n = c.K * c.N, c_n = c.M * c.N;
  const Floats a_mem = aligned_floats(c.offset + a_n), b_mem = aligned_floats(c.offset + b_n);
  const std::int64_t c_total = kFrontGuard + c.offset + c_n + kTailGuard;
  const Floats c_mem = aligned_floats(c_total);
  float* A = a_mem.get() + c.offset;
  float* B = b_mem.get() + c.offset;
  float* C = c_mem.get() + kFrontGuard + c.offset;
  const std::span<float> a(A, static_cast<std::size_t>(a_n)), b(B, static_cast<std::size_t>(b_n));
  const std::span<float> cv(C, static_cast<std::size_t>(c_n));
  std::fill(c_mem.get(), c_mem.get() + c_total, kPoison);
  if (a_n > 0) gnm::fill_uniform(a, seed, -1.0f, 1.0f);
  if (b_n > 0) gnm::fill_uniform(b, seed + 1, -1.0f, 1.0f);
  if (c.beta == 0.0f) {
    std::fill(cv.begin(), cv.end(), std::numeric_limits<float>::quiet_NaN());
  } else if (c_n > 0) {
    gnm::fill_uniform(cv, seed + 2, -1.0f, 1.0f);
  }
  const std::vector<float> c0(cv.begin(), cv.end());
  const SgemmReference ref = sgemm_reference(c.M, c.N, c.K, c.alpha, a, b, c.beta, c0);

  Outcome out;
  out.float4 = float4_ok(c.N, c.K, A, B, C);
  launch(c.M, c.N, c.K, c.alpha, A, B, c.beta, C);

  const SgemmCheck check = check_sgemm(ref, cv);
  std::int64_t dirty = 0, first_dirty = 0;
  for (std::int64_t i = 0; i < c_total; ++i) {
    const bool in_c = i >= kFrontGuard + c.offset && i < kFrontGuard + c.offset + c_n;
    if (!in_c && std::memcmp(&c_mem[static_cast<std::size_t>(i)], &kPoison, sizeof(float)) != 0) {
      if (dirty++ == 0) first_dirty = i - (kFrontGuard + c.offset);
    }
  }
  out.ok = check.ok && dirty == 0;
  out.report = describe(c) + (out.float4 ? ", float4_ok: " : ", not float4_ok: ") + check.report;
  if (dirty > 0) {
    out.report += "\n  " + std::to_string(dirty) + " guard floats written outside C, the first at C[" +
                  std::to_string(first_dirty) + "] (C has " + std::to_string(c_n) + ")";
  }
  return out;
}

/// The cases every rung runs. Odd shapes: one element; primes; sizes that are no multiple of any
/// tile (32, 64 and 128 along M and N; 8, 16 and 32 along K) so every block row, block column and
/// K step has a ragged edge; N and K multiples of 4 (rungs 6–9 take float4 loads) and not (their
/// scalar path), and a float4 shape with misaligned pointers (scalar path again); a narrow N = 4;
/// K = 0 (C = beta · C); M or N = 0 (nothing launched, C untouched). beta == 0 with C full of NaN,
/// and beta != 0, alpha != 1. Under ThreadSanitizer, whose barrier phases cost tens of
/// milliseconds with 256–1024 threads, a subset that still has two blocks along M or N, at least
/// two K steps for every BK (a missing second barrier races only then) and both rung 6–9 paths.
inline std::vector<Case> cases() {
#if defined(__SANITIZE_THREAD__)
  return {{1, 1, 1},
          {33, 68, 40},                        // float4 path, 2 blocks along M for rung 3
          {33, 68, 40, 1.0f, 0.5f, 1},         // the same, scalar path, beta != 0
          {67, 37, 19, -1.5f, 0.75f, 0}};      // primes
#else
  return {{1, 1, 1},
          {67, 37, 19},
          {129, 131, 17},
          {132, 136, 40},                      // float4 path (N, K multiples of 4)
          {5, 300, 7},
          {200, 4, 36},                        // float4 path, N = 4
          {3, 8, 48},
          {37, 41, 0},                         // K = 0: C = 0
          {0, 5, 5},
          {5, 0, 5},
          {45, 72, 40, 1.0f, 0.0f, 1},         // misaligned: scalar path, N and K allow float4
          {67, 37, 19, 1.0f, 1.0f, 0},
          {45, 72, 40, -1.5f, 0.75f, 0},       // float4 path with beta
          {45, 72, 40, 0.5f, -2.0f, 1},        // scalar path with beta
          {37, 41, 0, 0.5f, -2.0f, 0}};        // K = 0: C = beta · C0
#endif
}

/// Runs every case on `launch`; returns how many took the float4 path (rungs 6–9 must see both).
inline int expect_every_case(const char* rung, Launcher launch) {
  int float4 = 0;
  for (const Case& c : cases()) {
    const Outcome o = run_case(launch, c);
    EXPECT_TRUE(o.ok) << rung << ": " << o.report;
    float4 += o.float4 ? 1 : 0;
  }
  return float4;
}

}  // namespace gnm::ch06::emulated
