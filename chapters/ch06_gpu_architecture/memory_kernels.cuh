// 6.3's kernels: the pointer chase (building a random cycle, then following it with plain,
// L2-only and read-only loads) and the constant-memory broadcast. Kernels only, no CUDA header:
// sec_memory.cu compiles them with nvcc, and tests/emu/test_ch06_kernels_emulated.cpp runs the
// same text on the CPU through the host emulator (tests/emu/cuda_host_emulator.hpp), where
// __constant__ is an ordinary static array.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "memory_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cstddef>
#include <cstdint>

namespace chapter06::memory_kernels {
#if defined(GNM_CUDA_HOST_EMULATOR)
inline namespace host_emulated {  // see cuda_host_emulator.hpp: never merged with nvcc's stubs
#endif

constexpr std::size_t kLineBytes = 128;
constexpr std::uint32_t kNodeStride = kLineBytes / sizeof(std::uint32_t);  // uint32s per node

enum class LoadKind { ld, ldcg, ldg };

// chain[order[i] * stride] = order[i + 1] * stride: the nodes form one cycle in random order.
__global__ void build_chain_kernel(const std::uint32_t* __restrict__ order, std::uint32_t n,
                                   std::uint32_t* __restrict__ chain) {
  const std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const std::uint32_t next = order[i + 1 == n ? 0 : i + 1];
  chain[static_cast<std::size_t>(order[i]) * kNodeStride] = next * kNodeStride;
}

//! [pointer chase]
// One thread, `steps` dependent loads, starting where the previous launch stopped (*pos).
// `chain` is deliberately not `const __restrict__`: that would let the compiler use the read-only
// path for the plain loads too.
template <LoadKind kKind>
__global__ void chase_kernel(const std::uint32_t* chain, std::uint32_t* pos, long long steps) {
  std::uint32_t p = *pos;
  for (long long s = 0; s < steps; ++s) {
    if constexpr (kKind == LoadKind::ld) p = chain[p];
    if constexpr (kKind == LoadKind::ldcg) p = __ldcg(chain + p);
    if constexpr (kKind == LoadKind::ldg) p = __ldg(chain + p);
  }
  *pos = p;
}
//! [pointer chase]

constexpr int kTable = 4096;  // floats: 16 KiB of the 64 KiB constant bank
__constant__ float c_table[kTable];

//! [constant broadcast]
// Every thread sums `iters` table entries; lane l reads entry (j + l * spread) mod 4096 at step j:
// spread 0 is one address per warp (a broadcast), spread 1 is 32 neighbouring addresses.
template <bool kConstant>
__global__ void table_sum_kernel(const float* __restrict__ g_table, float* __restrict__ out,
                                 int iters, int spread) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  float acc = 0.0f;
  for (int j = 0; j < iters; ++j) {
    const int k = (j + lane * spread) & (kTable - 1);
    acc += kConstant ? c_table[k] : g_table[k];
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = acc;
}
//! [constant broadcast]

#if defined(GNM_CUDA_HOST_EMULATOR)
}  // namespace host_emulated
#endif
}  // namespace chapter06::memory_kernels
