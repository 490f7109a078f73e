// Chapter 7.5: the device code of the Hopper bf16 GEMM (wgmma + TMA; see wgmma_gemm.hpp for the
// contract and wgmma_gemm.cu for the launchers). Kernels and their inline-PTX helpers only, no
// CUDA header: wgmma_gemm.cu compiles this text with nvcc for sm_90a, and
// tests/emu/test_ch07_wgmma_emulated.cpp runs the same text on the CPU through the host emulator
// (tests/emu/cuda_host_emulator.hpp), each asm() helper replaced by a host model of its PTX
// instruction written from the PTX ISA (wgmma_models.hpp).
//
// One thread block computes one 128×256 tile of C with 384 threads in three warpgroups:
//
//   warpgroup 0  producer: one thread issues the TMA loads of A (128×64) and B (256×64) for each
//                k-step into a 4-stage ring of shared memory; the others idle (and give their
//                registers to the consumers with setmaxnreg).
//   warpgroups 1, 2  consumers: each multiplies its 64 rows of the A tile by the whole B tile,
//                4 × wgmma m64n256k16 per stage, accumulating 64×256 fp32 in registers
//                (128 per thread), then stores its part of C.
//
// The ring is synchronized with mbarriers, two per stage: full[s] completes when both TMA copies
// of stage s have landed (one producer arrival + the copies' byte count, expect_tx), empty[s] when
// all 8 consumer warps have finished reading it (8 arrivals). A barrier's phase flips each time it
// completes; waiting for "the phase with parity p" is how round r of a stage finds its own data.
//
// TMA writes each 64-element (128-byte) row of a tile with the 128-byte swizzle: the eight
// 16-byte chunks of row r are permuted by XOR with r mod 8, so the 8 rows of a core matrix sit in 8
// different bank groups. wgmma reads the same layout through its descriptor (swizzle mode 1), so
// nothing ever un-swizzles: the two agree because both apply the XOR to shared-memory address bits,
// which is why each stage starts on a 1024-byte boundary.
//
// Device code exists only for sm_90a (the guard below); compiled for anything else each kernel
// body is a trap, and the host refuses to launch on a device that is not compute capability 9.0.
// Under the emulator the helpers' bodies are the models (one `#if` each) and the kernel takes its
// dynamic shared memory from gnm::emu::dynamic_shared(); the rest of the text is what nvcc sees.
#pragma once

#if !defined(__CUDACC__) && !defined(GNM_CUDA_HOST_EMULATOR)
#error "wgmma_kernels.cuh needs nvcc or tests/emu/cuda_host_emulator.hpp included first"
#endif

#include <cstddef>
#include <cstdint>

#include "wgmma_config.hpp"

#if defined(GNM_CUDA_HOST_EMULATOR)
#include "wgmma_models.hpp"
#endif

// wgmma, setmaxnreg and the sm_90 TMA/mbarrier forms used here: sm_90a device passes only (and
// the host emulator, which models them).
#if defined(GNM_CUDA_HOST_EMULATOR) || \
    (defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL))
#define GNM_WGMMA_DEVICE 1
#else
#define GNM_WGMMA_DEVICE 0
#endif

namespace gnm::ch07 {
#if defined(GNM_CUDA_HOST_EMULATOR)
inline namespace host_emulated {  // see cuda_host_emulator.hpp: never merged with nvcc's stubs
#else
namespace {  // one translation unit (wgmma_gemm.cu) includes this under nvcc
#endif

constexpr int kBM = kWgmmaTileM, kBN = kWgmmaTileN, kBK = kWgmmaTileK, kStages = kWgmmaStages;
constexpr int kConsumerWarps = 8;  // two consumer warpgroups
// setmaxnreg moves registers through a per-block pool that starts empty: the producer warpgroup's
// `dec` must free at least what the consumers' `inc` takes, or `inc` blocks forever (no watchdog
// can see that). Every thread starts with what __launch_bounds__(384, 1) lets ptxas use,
// 65536 / 384 rounded down to a multiple of 8 = 168, so 128·(168 − 40) >= 256·(232 − 168).
constexpr int kProducerRegs = 40;
constexpr int kConsumerRegs = 232;
constexpr int kRegsAtLaunch = 65536 / kWgmmaThreads / 8 * 8;
static_assert(kProducerRegs % 8 == 0 && kConsumerRegs % 8 == 0 && kProducerRegs >= 24 &&
                  kConsumerRegs <= 256,
              "setmaxnreg takes multiples of 8 in [24, 256]");
static_assert(128 * kProducerRegs + 256 * kConsumerRegs <= kWgmmaThreads * kRegsAtLaunch,
              "the consumers' setmaxnreg.inc would wait forever for registers");
constexpr std::uint32_t kStageBytesA = kWgmmaStageBytesA;  // 16 KiB
constexpr std::uint32_t kStageBytesB = kWgmmaStageBytesB;  // 32 KiB
constexpr std::uint32_t kStageBytes = kWgmmaStageBytes;    // the expect_tx count
static_assert(kBK * 2 == 128, "one k-step must be exactly one 128-byte swizzle row");
static_assert(kStageBytesA % 1024 == 0 && kStageBytesB % 1024 == 0,
              "every stage must start on a 1024-byte boundary (the swizzle pattern's period)");

#if GNM_WGMMA_DEVICE

// A deadlocked barrier (a wrong phase, a lost TMA) must fail the launch, not hang the test run:
// no wait in this kernel lasts anywhere near 10 s (a whole 8192³ product is ~1.1 ms at peak).
constexpr std::uint64_t kWatchdogNs = 10'000'000'000ull;

__device__ __forceinline__ std::uint32_t shared_address(const void* p) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  return wgmma_model::shared_address(p);
#else
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
#endif
}

__device__ __forceinline__ std::uint64_t global_timer_ns() {
#if defined(GNM_CUDA_HOST_EMULATOR)
  return wgmma_model::global_timer_ns();
#else
  std::uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
#endif
}

//! [mbarrier]
__device__ __forceinline__ void mbarrier_init(std::uint32_t bar, std::uint32_t arrivals) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::mbarrier_init(bar, arrivals);
#else
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(arrivals) : "memory");
#endif
}

// One arrival that also announces `bytes` of asynchronous copies the phase must wait for.
__device__ __forceinline__ void mbarrier_arrive_expect_tx(std::uint32_t bar, std::uint32_t bytes) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::mbarrier_arrive_expect_tx(bar, bytes);
#else
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes)
               : "memory");
#endif
}

__device__ __forceinline__ void mbarrier_arrive(std::uint32_t bar) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::mbarrier_arrive(bar);
#else
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(bar) : "memory");
#endif
}

// True once the phase with parity `parity` has completed (acquire: its data is visible).
__device__ __forceinline__ bool mbarrier_try_wait(std::uint32_t bar, std::uint32_t parity) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  return wgmma_model::mbarrier_try_wait_parity(bar, parity);
#else
  std::uint32_t done;
  asm volatile(
      "{\n\t.reg .pred p;\n\t"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n\t"
      "selp.u32 %0, 1, 0, p;\n\t}"
      : "=r"(done)
      : "r"(bar), "r"(parity)
      : "memory");
  return done != 0;
#endif
}

__device__ __forceinline__ void mbarrier_wait(std::uint32_t bar, std::uint32_t parity) {
  if (mbarrier_try_wait(bar, parity)) return;
  const std::uint64_t start = global_timer_ns();
  while (!mbarrier_try_wait(bar, parity)) {
    if (global_timer_ns() - start > kWatchdogNs) __trap();
  }
}
//! [mbarrier]

// A 2-D TMA load of the box at (c0 = column in elements, c1 = row) of `map` into shared memory at
// `dst`, completing on the mbarrier `bar` with the box's byte count (zeros where it leaves the
// tensor, still counted).
__device__ __forceinline__ void tma_load_2d(std::uint32_t dst, const CUtensorMap* map,
                                            std::uint32_t bar, int c0, int c1) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::tma_load_2d(dst, map, bar, c0, c1);
#else
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
      " [%0], [%1, {%3, %4}], [%2];" ::"r"(dst),
      "l"(reinterpret_cast<std::uint64_t>(map)), "r"(bar), "r"(c0), "r"(c1)
      : "memory");
#endif
}

//! [wgmma_descriptor]
// The shared-memory matrix descriptor of a K-major tile written by TMA with the 128-byte swizzle:
//   bits  0–13  start address >> 4
//   bits 16–29  leading-dimension byte offset >> 4: unused for swizzled K-major layouts (1)
//   bits 32–45  stride-dimension byte offset >> 4: 8 rows × 128 B = 1024 B between core matrices
//   bits 49–51  base offset: 0, every tile starts on a 1024-byte boundary
//   bits 62–63  swizzle mode: 1 = 128-byte swizzle
// Moving along K inside the 128-byte row is moving the start address: +32 bytes per 16 elements.
__device__ __forceinline__ std::uint64_t smem_descriptor(std::uint32_t address) {
  return static_cast<std::uint64_t>((address & 0x3FFFFu) >> 4) | (std::uint64_t{1} << 16) |
         (std::uint64_t{1024 >> 4} << 32) | (std::uint64_t{1} << 62);
}
//! [wgmma_descriptor]

__device__ __forceinline__ void wgmma_fence() {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::wgmma_fence();
#else
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#endif
}
__device__ __forceinline__ void wgmma_commit() {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::wgmma_commit_group();
#else
  asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
#endif
}
template <int Pending>
__device__ __forceinline__ void wgmma_wait() {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::wgmma_wait_group(Pending);
#else
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(Pending) : "memory");
#endif
}

// Ties the accumulators to this point of the program: the compiler may not move their reads or
// writes across it (they are being written asynchronously by the tensor cores).
__device__ __forceinline__ void fence_accumulators(float (&d)[128]) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::fence_accumulators(d);
#else
#pragma unroll
  for (int i = 0; i < 128; ++i) asm volatile("" : "+f"(d[i])::"memory");
#endif
}

#define GNM_ACC8(i)                                                                     \
  "+f"(d[i + 0]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]),       \
      "+f"(d[i + 5]), "+f"(d[i + 6]), "+f"(d[i + 7])

//! [wgmma_instruction]
// D (64×256, fp32, 128 registers per thread) += A (64×16 bf16, smem) · B (256×16 bf16, smem)ᵀ.
// Operands: d, a-desc, b-desc, scale-d = 1 (accumulate), scale-a = scale-b = 1, no transposes
// (both K-major).
__device__ __forceinline__ void wgmma_m64n256k16(float (&d)[128], std::uint64_t desc_a,
                                                 std::uint64_t desc_b) {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::wgmma_m64n256k16_bf16(d, desc_a, desc_b);
#else
  asm volatile(
      "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
      "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
      "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
      "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, "
      "%111, %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, "
      "%126, %127}, %128, %129, 1, 1, 1, 0, 0;"
      : GNM_ACC8(0), GNM_ACC8(8), GNM_ACC8(16), GNM_ACC8(24), GNM_ACC8(32), GNM_ACC8(40),
        GNM_ACC8(48), GNM_ACC8(56), GNM_ACC8(64), GNM_ACC8(72), GNM_ACC8(80), GNM_ACC8(88),
        GNM_ACC8(96), GNM_ACC8(104), GNM_ACC8(112), GNM_ACC8(120)
      : "l"(desc_a), "l"(desc_b)
      : "memory");
#endif
}
//! [wgmma_instruction]
#undef GNM_ACC8

// Hands registers back to (dec) or takes them from (inc) the block's pool: every thread of the
// warpgroup must execute it, with the same count (a multiple of 8 in [24, 256]).
template <int Registers>
__device__ __forceinline__ void setmaxnreg_dec() {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::setmaxnreg(Registers);
#else
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(Registers));
#endif
}
template <int Registers>
__device__ __forceinline__ void setmaxnreg_inc() {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::setmaxnreg(Registers);
#else
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(Registers));
#endif
}

// Makes initialized mbarriers visible to the TMA unit (the async proxy) too.
__device__ __forceinline__ void fence_mbarrier_init() {
#if defined(GNM_CUDA_HOST_EMULATOR)
  wgmma_model::fence_mbarrier_init();
#else
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
#endif
}

// Stores the pair (x, y) at C[row, col], C[row, col + 1], masking what lies outside M×N.
__device__ __forceinline__ void store_pair(float* C, int M, int N, int row, int col, float x,
                                           float y, bool vector_ok) {
  if (row >= M || col >= N) return;
  float* p = C + static_cast<std::int64_t>(row) * N + col;
  if (vector_ok) {  // N even and C 8-byte aligned: col is even, so p is 8-byte aligned
    *reinterpret_cast<float2*>(p) = make_float2(x, y);
  } else {
    p[0] = x;
    if (col + 1 < N) p[1] = y;
  }
}

#endif  // GNM_WGMMA_DEVICE

__global__ void __launch_bounds__(kWgmmaThreads, 1)
    wgmma_gemm_kernel(const __grid_constant__ CUtensorMap map_a,
                      const __grid_constant__ CUtensorMap map_b, float* __restrict__ C, int M,
                      int N, int K, int vector_store) {
#if defined(__CUDA_ARCH__) || defined(GNM_CUDA_HOST_EMULATOR)
#if GNM_WGMMA_DEVICE
#if defined(GNM_CUDA_HOST_EMULATOR)
  unsigned char* const shared_raw = gnm::emu::dynamic_shared();
#else
  extern __shared__ unsigned char shared_raw[];
#endif
  // Shared-memory addresses (32-bit, what TMA, mbarriers and descriptors take), 1024-aligned.
  const std::uint32_t base = (shared_address(shared_raw) + 1023u) & ~1023u;
  const std::uint32_t ring_a = base;                           // kStages × 128×64 bf16
  const std::uint32_t ring_b = ring_a + kStages * kStageBytesA;  // kStages × 256×64 bf16
  const std::uint32_t barriers = ring_b + kStages * kStageBytesB;
  auto full = [&](int s) { return barriers + 8u * static_cast<std::uint32_t>(s); };
  auto empty = [&](int s) { return barriers + 8u * static_cast<std::uint32_t>(kStages + s); };

  const int tiles_m = (M + kBM - 1) / kBM, tiles_n = (N + kBN - 1) / kBN;
  const WgmmaTile tile = wgmma_tile_of_block(static_cast<int>(blockIdx.x), tiles_m, tiles_n,
                                             kWgmmaGroupM);
  const int k_tiles = (K - 1) / kBK + 1;  // K >= 8 here; K + 63 could overflow
  const int warpgroup = static_cast<int>(threadIdx.x) / 128;

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      mbarrier_init(full(s), 1);                // the producer's arrive.expect_tx
      mbarrier_init(empty(s), kConsumerWarps);  // one arrival per consumer warp
    }
    fence_mbarrier_init();
  }
  __syncthreads();

  if (warpgroup == 0) {
    //! [wgmma_producer]
    // Producer: 40 registers are plenty for a loop that issues copies.
    setmaxnreg_dec<kProducerRegs>();
    if (threadIdx.x == 0) {
      for (int kt = 0; kt < k_tiles; ++kt) {
        const int s = kt % kStages;
        const int round = kt / kStages;
        // Round r > 0 of stage s reuses it: wait until the consumers released round r − 1,
        // the (r − 1)-th completion of empty[s], whose parity is (r − 1) & 1.
        if (round > 0) mbarrier_wait(empty(s), static_cast<std::uint32_t>((round - 1) & 1));
        mbarrier_arrive_expect_tx(full(s), kStageBytes);
        tma_load_2d(ring_a + s * kStageBytesA, &map_a, full(s), kt * kBK, tile.m * kBM);
        tma_load_2d(ring_b + s * kStageBytesB, &map_b, full(s), kt * kBK, tile.n * kBN);
      }
    }
    //! [wgmma_producer]
  } else {
    //! [wgmma_consumer]
    // Consumers: 128 accumulators per thread need room (2·128·232 + 128·40 <= 64 Ki registers).
    setmaxnreg_inc<kConsumerRegs>();
    const int consumer = warpgroup - 1;  // rows [64·consumer, 64·consumer + 64) of the tile
    const int lane = static_cast<int>(threadIdx.x) % 32;
    float d[128];
#pragma unroll
    for (int i = 0; i < 128; ++i) d[i] = 0.0f;

    for (int kt = 0; kt < k_tiles; ++kt) {
      const int s = kt % kStages;
      mbarrier_wait(full(s), static_cast<std::uint32_t>((kt / kStages) & 1));
      __syncwarp();
      const std::uint32_t a = ring_a + s * kStageBytesA + consumer * 64 * 128;  // 64 rows × 128 B
      const std::uint32_t b = ring_b + s * kStageBytesB;
      fence_accumulators(d);
      wgmma_fence();
#pragma unroll
      for (int k = 0; k < kBK / 16; ++k) {
        wgmma_m64n256k16(d, smem_descriptor(a + 32u * k), smem_descriptor(b + 32u * k));
      }
      wgmma_commit();
      fence_accumulators(d);
      // Keep this stage's group in flight; the previous one is done, so release its stage.
      wgmma_wait<1>();
      fence_accumulators(d);
      if (kt > 0) {
        __syncwarp();
        if (lane == 0) mbarrier_arrive(empty((kt - 1) % kStages));
      }
    }
    wgmma_wait<0>();
    fence_accumulators(d);
    if (k_tiles > 0) {
      __syncwarp();
      if (lane == 0) mbarrier_arrive(empty((k_tiles - 1) % kStages));
    }
    //! [wgmma_consumer]

    //! [wgmma_epilogue]
    // Accumulator layout of m64nNk16 (fp32): warp w of the warpgroup holds rows 16w…16w+15; lane
    // l holds rows l/4 and l/4 + 8 of those, columns 8j + 2(l % 4) and +1, in registers
    // d[4j], d[4j+1] (row l/4) and d[4j+2], d[4j+3] (row l/4 + 8), for j = 0…N/8 − 1.
    const int warp = (static_cast<int>(threadIdx.x) % 128) / 32;
    const int row = tile.m * kBM + consumer * 64 + warp * 16 + lane / 4;
    const int col = tile.n * kBN + 2 * (lane % 4);
    const bool vector_ok = vector_store != 0;
#pragma unroll
    for (int j = 0; j < kBN / 8; ++j) {
      store_pair(C, M, N, row, col + 8 * j, d[4 * j], d[4 * j + 1], vector_ok);
      store_pair(C, M, N, row + 8, col + 8 * j, d[4 * j + 2], d[4 * j + 3], vector_ok);
    }
    //! [wgmma_epilogue]
  }
#else
  __trap();  // built for a target without wgmma: the host never launches this
#endif
#endif
}

// One thread per element of C (grid-stride over M·N), k in order, fp32 fmaf.
__global__ void naive_gemm_kernel(const __nv_bfloat16* __restrict__ A,
                                  const __nv_bfloat16* __restrict__ B, float* __restrict__ C, int M,
                                  int N, int K) {
#if defined(__CUDA_ARCH__) || defined(GNM_CUDA_HOST_EMULATOR)
#if GNM_WGMMA_DEVICE
  const std::int64_t total = static_cast<std::int64_t>(M) * N;
  const std::int64_t step = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < total; i += step) {
    const __nv_bfloat16* a = A + (i / N) * K;
    const __nv_bfloat16* b = B + (i % N) * K;
    float acc = 0.0f;
    for (int k = 0; k < K; ++k) acc = fmaf(__bfloat162float(a[k]), __bfloat162float(b[k]), acc);
    C[i] = acc;
  }
#else
  __trap();
#endif
#endif
}

}  // namespace
}  // namespace gnm::ch07
